import kafkajs from 'kafkajs';
import type { Assignment, GroupMember, GroupMemberAssignment, PartitionAssigner } from 'kafkajs';

// kafkajs is CommonJS: its serializers are reached through the default export under ESM.
const { AssignerProtocol } = kafkajs;

export const CO_PARTITIONED_ASSIGNER_NAME = 'PersonaStreamCoPartitioned';

/**
 * Partition numbers in ranges per member, the same numbers on every subscribed topic.
 * Pure: the members' ids sorted, partition p goes to member ⌊p·M/N⌋ (contiguous ranges, sizes differ by ≤ 1).
 */
export function coPartitionedAssignment(
  memberIds: readonly string[],
  topics: readonly string[],
  partitionCount: number,
): Map<string, Assignment> {
  const members = [...memberIds].sort();
  const assignments = new Map<string, Assignment>();
  for (const member of members) assignments.set(member, Object.fromEntries(topics.map((topic) => [topic, []])));
  if (members.length === 0) return assignments;
  for (let partition = 0; partition < partitionCount; partition++) {
    const member = members[Math.floor((partition * members.length) / partitionCount)];
    if (member === undefined) continue;
    const assignment = assignments.get(member);
    for (const topic of topics) assignment?.[topic]?.push(partition);
  }
  return assignments;
}

/**
 * The processor's group assignor. Partition p of stripe.events and partition p of segment.events feed one state
 * partition (changelog partition p), so they must always belong to the same member: kafkajs' round-robin assignor
 * spreads topic-partitions independently and, with a replica count that does not divide the partition count, would
 * give one state partition two writers. This assignor hands out partition numbers instead; topics with fewer
 * partitions than the largest simply have no such partition.
 */
export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: CO_PARTITIONED_ASSIGNER_NAME,
  version: 0,
  assign: ({ members, topics }: { members: GroupMember[]; topics: string[] }): Promise<GroupMemberAssignment[]> => {
    const partitionCount = Math.max(0, ...topics.map((topic) => cluster.findTopicPartitionMetadata(topic).length));
    const assignments = coPartitionedAssignment(
      members.map((member) => member.memberId),
      topics,
      partitionCount,
    );
    return Promise.resolve(
      [...assignments].map(([memberId, assignment]) => {
        const available = Object.fromEntries(
          Object.entries(assignment).map(([topic, partitions]) => {
            const existing = new Set(cluster.findTopicPartitionMetadata(topic).map((entry) => entry.partitionId));
            return [topic, partitions.filter((partition) => existing.has(partition))];
          }),
        );
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 0,
            assignment: available,
            userData: Buffer.alloc(0),
          }),
        };
      }),
    );
  },
  protocol: ({ topics }: { topics: string[] }) => ({
    name: CO_PARTITIONED_ASSIGNER_NAME,
    metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
  }),
});
