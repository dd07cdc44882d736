import { describe, expect, it } from 'vitest';
import { AssignerProtocol, PartitionAssigners, type Cluster, type PartitionAssigner } from 'kafkajs';
import { coPartitionedAssigner, coPartitionedAssignment } from '../../../src/adapters/kafka/co-partitioned-assigner.js';

describe('the co-partitioned assignor', () => {
  it('gives each member the same partition numbers on every topic, for any member count', () => {
    for (let members = 1; members <= 13; members++) {
      const ids = Array.from({ length: members }, (_, i) => `member-${String(i).padStart(2, '0')}`);
      const assignment = coPartitionedAssignment(ids, ['stripe', 'segment'], 12);
      const owners = new Map<number, string>();
      for (const [member, topics] of assignment) {
        expect(topics['stripe']).toEqual(topics['segment']);
        for (const partition of topics['stripe'] ?? []) {
          expect(owners.has(partition), `partition ${String(partition)} owned twice`).toBe(false);
          owners.set(partition, member);
        }
      }
      expect([...owners.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
      const sizes = [...assignment.values()].map((topics) => topics['stripe']?.length ?? 0);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('does not depend on the order members are listed in', () => {
    const a = coPartitionedAssignment(['b', 'a', 'c'], ['t'], 5);
    const b = coPartitionedAssignment(['c', 'b', 'a'], ['t'], 5);
    expect([...a]).toEqual([...b]);
    expect(Object.fromEntries([...a].map(([member, topics]) => [member, topics['t']]))).toEqual({
      a: [0, 1],
      b: [2, 3],
      c: [4],
    });
  });
});

describe('the processor group protocol, as kafkajs runs it', () => {
  const cluster = {
    findTopicPartitionMetadata: () =>
      Array.from({ length: 6 }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0] })),
  } as unknown as Cluster;
  const members = ['m0', 'm1', 'm2', 'm3'].map((memberId) => ({ memberId, memberMetadata: Buffer.alloc(0) }));

  async function assignmentsOf(assigner: PartitionAssigner) {
    const assigned = await assigner({ cluster, groupId: 'g', logger: {} as never }).assign({
      members,
      topics: ['stripe', 'segment'],
    });
    return assigned.map(
      ({ memberAssignment }) => AssignerProtocol.MemberAssignment.decode(memberAssignment)?.assignment ?? {},
    );
  }

  it("kafkajs' round-robin splits partition p's two topics between members (the bug this assignor prevents)", async () => {
    const split = (await assignmentsOf(PartitionAssigners.roundRobin)).some(
      (assignment) => JSON.stringify(assignment['stripe']) !== JSON.stringify(assignment['segment']),
    );
    expect(split).toBe(true);
  });

  it('ours keeps them together, every partition owned once', async () => {
    const assignments = await assignmentsOf(coPartitionedAssigner);
    for (const assignment of assignments) expect(assignment['stripe']).toEqual(assignment['segment']);
    expect(assignments.flatMap((assignment) => assignment['stripe'] ?? []).sort()).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
