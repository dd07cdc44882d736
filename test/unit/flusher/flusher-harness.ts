import { FlushEngine, type FlushEngineOptions, type MaveraSinkSettings } from '../../../src/flusher/flush-engine.js';
import type { FlushOutputs } from '../../../src/flusher/flush-outputs.js';
import type { EnvConfig } from '../../../src/config/env.js';
import { parsePipelineConfig } from '../../../src/domain/pipeline/pipeline-config.js';
import { deadLetterSchema, type DeadLetter } from '../../../src/records/dead-letter.js';
import { personaRegistryEntrySchema, type PersonaRegistryEntry } from '../../../src/records/persona-registry.js';
import { personaUpdateSchema, type PersonaUpdate } from '../../../src/records/persona-update.js';
import { parseRecord } from '../../../src/records/record-validation.js';
import type { ProfileRecord } from '../../../src/records/profile-record.js';
import {
  createVirtualClock,
  FAKE_MAVERA_KEY,
  startFakeMavera,
  type FakeMavera,
  type FakeMaveraOptions,
  type VirtualClock,
} from '../../support/fake-mavera.js';

export const NOW = Date.UTC(2026, 5, 1, 12);

/** Compile-time check that the flusher takes `env.mavera` as it is. */
export const maveraSettingsFromEnv = (settings: EnvConfig['mavera']): MaveraSinkSettings => settings;
export const defaultConfig = parsePipelineConfig({});

/**
 * The three topics the lead writes on Kafka, kept in memory. Every record is checked against its topic schema as
 * the Kafka serde would; `failNext` makes the next write of a sink reject.
 */
export class MemoryOutputs implements FlushOutputs {
  readonly registry: PersonaRegistryEntry[] = [];
  readonly audit: PersonaUpdate[] = [];
  readonly deadLetters: DeadLetter[] = [];
  readonly batches: string[] = [];
  private failing: 'registry' | 'audit' | 'dead_letters' | null = null;

  failNext(sink: 'registry' | 'audit' | 'dead_letters'): void {
    this.failing = sink;
  }

  writeRegistry(entries: readonly PersonaRegistryEntry[]): Promise<void> {
    entries.forEach((entry) => parseRecord('PersonaRegistryEntry', personaRegistryEntrySchema, entry));
    return this.write('registry', () => this.registry.push(...entries), entries.length);
  }

  writeAudit(records: readonly PersonaUpdate[]): Promise<void> {
    records.forEach((record) => parseRecord('PersonaUpdate', personaUpdateSchema, record));
    return this.write('audit', () => this.audit.push(...records), records.length);
  }

  writeDeadLetters(records: readonly DeadLetter[]): Promise<void> {
    records.forEach((record) => parseRecord('DeadLetter', deadLetterSchema, record));
    return this.write('dead_letters', () => this.deadLetters.push(...records), records.length);
  }

  /** Drains what was written since the last call. */
  take(): { registry: PersonaRegistryEntry[]; audit: PersonaUpdate[]; deadLetters: DeadLetter[] } {
    return {
      registry: this.registry.splice(0),
      audit: this.audit.splice(0),
      deadLetters: this.deadLetters.splice(0),
    };
  }

  private write(sink: 'registry' | 'audit' | 'dead_letters', apply: () => void, size: number): Promise<void> {
    if (this.failing === sink) {
      this.failing = null;
      return Promise.reject(new Error(`${sink} topic unavailable`));
    }
    this.batches.push(`${sink}:${size}`);
    apply();
    return Promise.resolve();
  }
}

export function customer(id: string, mrr: number, fields: ProfileRecord['fields'] = {}): ProfileRecord {
  return {
    key: `customer:${id}`,
    kind: 'customer',
    entity_id: id,
    as_of: NOW,
    last_event_at: NOW,
    revenue: null,
    fields: { mrr, country: 'US', ...fields },
  };
}

export interface Harness {
  readonly clock: VirtualClock;
  readonly fake: FakeMavera;
  readonly outputs: MemoryOutputs;
  readonly engine: FlushEngine;
  /** Another engine on the same fake and outputs, e.g. a restarted flusher. */
  newEngine(overrides?: Partial<FlushEngineOptions>): FlushEngine;
  close(): Promise<void>;
}

export async function startHarness(
  options: {
    fake?: FakeMaveraOptions;
    engine?: Partial<FlushEngineOptions>;
    mavera?: Partial<MaveraSinkSettings>;
  } = {},
): Promise<Harness> {
  const clock = createVirtualClock(NOW);
  const fake = await startFakeMavera({ now: clock.now, ...options.fake });
  const outputs = new MemoryOutputs();
  const newEngine = (overrides: Partial<FlushEngineOptions> = {}) =>
    new FlushEngine({
      config: defaultConfig,
      mavera: {
        apiKey: FAKE_MAVERA_KEY,
        baseUrl: fake.url,
        rateLimitPerMin: 60,
        sandbox: false,
        dryRun: false,
        ...options.mavera,
      },
      outputs,
      clock,
      random: () => 0.5,
      tuning: { timeoutMs: 300 },
      ...options.engine,
      ...overrides,
    });
  return { clock, fake, outputs, engine: newEngine(), newEngine, close: () => fake.close() };
}

/** Three enterprise customers (avg MRR 12,000) and three SMB ones (avg 400), all in the US. */
export const tiers: readonly ProfileRecord[] = [
  customer('cus_e1', 11_000),
  customer('cus_e2', 12_000),
  customer('cus_e3', 13_000),
  customer('cus_s1', 300),
  customer('cus_s2', 400),
  customer('cus_s3', 500),
];

export function applyAll(engine: FlushEngine, records: readonly ProfileRecord[]): void {
  for (const record of records) engine.applyProfile(record, record.key);
}

export const enterprisePayload = {
  name: 'Enterprise Customer',
  description: 'Revenue tier: enterprise. 3 customers, avg MRR $12,000.',
  pipeline_type: 'advanced',
  type: 'B2B',
  key_differentiators: ['Revenue tier: enterprise', 'Customers: 3', 'Avg MRR: $12,000', 'Top countries: US'],
};

export const smbPayload = {
  name: 'Smb Customer',
  description: 'Revenue tier: smb. 3 customers, avg MRR $400.',
  pipeline_type: 'advanced',
  type: 'B2B',
  key_differentiators: ['Revenue tier: smb', 'Customers: 3', 'Avg MRR: $400', 'Top countries: US'],
};
