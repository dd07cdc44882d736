import type { ProducerConfig } from 'kafkajs';

/**
 * Every send waits for all in-sync replicas: anything less may lose an acknowledged record with its leader, and
 * kafkajs refuses an idempotent send without it.
 */
export const ACKS_ALL = -1;

/**
 * The one producer configuration of the connectors' publisher, the dead-letter sink and the flusher. Used only
 * through SerialProducer, which keeps one send in flight and replaces the producer after a failed send: that is
 * what makes kafkajs' idempotence safe (see serial-producer.ts).
 *
 * - `idempotent`: a retried produce the broker already appended (its ack was lost) is not written twice. False only
 *   for brokers that cannot give kafkajs a producer id (KAFKA_IDEMPOTENT=false): librdkafka's mock cluster names
 *   a controller that is none of its brokers, so InitProducerId fails there.
 * - `maxInFlightRequests: 1`: kafkajs rolls sequence numbers back when a request fails and does not reorder
 *   retries, so a second request in flight could overtake a retried one.
 * - 5 retries, not kafkajs' unbounded default for idempotence: a send that cannot succeed (topic missing, partition
 *   offline) must fail so the sends behind it proceed. kafkajs warns that limited retries "may invalidate EoS": true
 *   of kafkajs alone (a failed send leaves its sequence numbers for the next batch, which the broker can then drop
 *   as a duplicate while acknowledging it); SerialProducer starts a new producer id after every failed send.
 * - Retries back off to at most 1 s, so a send resumes within about a second of the broker coming back.
 */
export function producerOptions(idempotent: boolean): ProducerConfig {
  return {
    allowAutoTopicCreation: false,
    idempotent,
    maxInFlightRequests: 1,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1_000 },
  };
}
