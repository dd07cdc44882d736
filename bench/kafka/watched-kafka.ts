import type { Consumer, ConsumerConfig, Kafka } from 'kafkajs';

/**
 * The same client, but every consumer it creates is shown to `watch` first: a scenario attaches kafkajs'
 * instrumentation listeners (batch start/end) to consumers that roles create internally, without touching them.
 */
export function watchConsumers(kafka: Kafka, watch: (groupId: string, consumer: Consumer) => void): Kafka {
  const consumer = (config: ConsumerConfig): Consumer => {
    const created = kafka.consumer(config);
    watch(config.groupId, created);
    return created;
  };
  return new Proxy(kafka, {
    get: (target, property, receiver) =>
      property === 'consumer' ? consumer : (Reflect.get(target, property, receiver) as unknown),
  });
}
