import { jsonSerde } from '../../../src/adapters/kafka/record-serde.js';
import { parsePipelineConfig } from '../../../src/domain/pipeline/pipeline-config.js';
import { createPipeline } from '../../../src/domain/pipeline/pipeline.js';
import type { ProcessorTopics } from '../../../src/processor/processor.js';
import { canonicalEventSchema } from '../../../src/records/canonical-event.js';
import { deadLetterSchema } from '../../../src/records/dead-letter.js';
import { profileRecordSchema } from '../../../src/records/profile-record.js';

/** What the processor unit tests share: topic names on the in-memory Kafka, the default pipeline, JSON serdes. */
export const GROUP = 'processor';

export const topics: ProcessorTopics = {
  stripeEvents: 'stripe.events',
  segmentEvents: 'segment.events',
  changelog: 'state-changelog',
  profiles: 'profiles',
  deadLetters: 'dlq',
};

export const pipeline = createPipeline(parsePipelineConfig({}));

export const serdes = {
  event: jsonSerde('io.personastream.CanonicalEvent', canonicalEventSchema),
  profile: jsonSerde('io.personastream.Profile', profileRecordSchema),
  deadLetter: jsonSerde('io.personastream.DeadLetter', deadLetterSchema),
};
