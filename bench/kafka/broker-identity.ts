/** Which broker a figure was measured on: every Kafka row and record carries it. */
export interface BrokerIdentity {
  readonly kind: 'apache-kafka' | 'mock' | 'external';
  /** The Kafka release, where the bench knows it (the local Apache Kafka's). */
  readonly version: string | null;
  /** As the table prints it. */
  readonly name: string;
}

export const MOCK_IDENTITY: BrokerIdentity = { kind: 'mock', version: null, name: 'librdkafka mock' };

export const EXTERNAL_IDENTITY: BrokerIdentity = { kind: 'external', version: null, name: 'KAFKA_BROKERS cluster' };

export function apacheKafkaIdentity(version: string): BrokerIdentity {
  return { kind: 'apache-kafka', version, name: `Apache Kafka ${version}` };
}
