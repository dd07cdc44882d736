import type { Kafka } from 'kafkajs';
import type { RecordSerde } from '../../adapters/kafka/record-serde.js';
import { SerialProducer } from '../../adapters/kafka/serial-producer.js';
import type { DeadLetter } from '../../records/dead-letter.js';

/** Where a connector puts what it accepted but cannot publish as an event; resolves once the broker acked. */
export interface DeadLetterSink {
  write(topic: string, letters: readonly DeadLetter[]): Promise<void>;
}

/**
 * Dead letters on the dlq topic through an idempotent producer (unless `idempotent` is false, for brokers that
 * cannot do it), acks from all in-sync replicas, validated by the serde before anything is sent.
 */
export class KafkaDeadLetterSink implements DeadLetterSink {
  private readonly producer: SerialProducer;

  constructor(
    kafka: Kafka,
    private readonly serde: RecordSerde<DeadLetter>,
    options: { readonly idempotent?: boolean } = {},
  ) {
    this.producer = new SerialProducer(kafka, { idempotent: options.idempotent ?? true });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  async write(topic: string, letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const messages = await Promise.all(
      letters.map(async (letter) => ({ key: letter.key, value: await this.serde.encode(letter) })),
    );
    await this.producer.send(topic, messages);
  }
}
