import kafkajs from 'kafkajs';

// kafkajs is CommonJS: its partitioners are reached through the default export under ESM.
const { Partitioners } = kafkajs;

/**
 * For each of `partitions` partitions, a key that kafkajs' default partitioner (the one the connectors' producer
 * uses) sends there: the first of `<prefix><partition>-0`, `<prefix><partition>-1`, … that lands on it. For giving
 * every partition a record, as the demo's closing events and the tests do.
 */
export function keysForEveryPartition(prefix: string, partitions: number): string[] {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));
  const keys: string[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    for (let attempt = 0; ; attempt++) {
      const key = `${prefix}${String(partition)}-${String(attempt)}`;
      if (partitioner({ topic: 'keys', partitionMetadata, message: { key, value: null } }) === partition) {
        keys.push(key);
        break;
      }
    }
  }
  return keys;
}
