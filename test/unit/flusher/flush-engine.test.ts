import { afterEach, describe, expect, it } from 'vitest';
import { contentHash } from '../../../src/domain/personas/canonical-json.js';
import type { MaveraPersonaPayload } from '../../../src/domain/personas/mavera-payload.js';
import { formatDryRunDiff } from '../../../src/flusher/dry-run-diff.js';
import { FlushOutputError, ProfileKeyMismatchError } from '../../../src/flusher/flush-engine.js';
import {
  applyAll,
  customer,
  enterprisePayload,
  NOW,
  smbPayload,
  startHarness,
  tiers,
  type Harness,
} from './flusher-harness.js';

let harness: Harness | undefined;

afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function start(options: Parameters<typeof startHarness>[0] = {}): Promise<Harness> {
  harness = await startHarness(options);
  return harness;
}

const enterpriseHash = contentHash(enterprisePayload);

function calls(h: Harness): string[] {
  return h.fake.requests.map((request) => `${request.method} ${request.path} ${request.status}`);
}

describe('FlushEngine: creates, updates, leaves alone', () => {
  it('creates one persona per segment, after listing existing personas once', async () => {
    const h = await start();
    applyAll(h.engine, tiers);
    const report = await h.engine.flush(NOW);

    expect(calls(h)).toEqual(['GET /personas 200', 'POST /personas 201', 'POST /personas 201']);
    expect(h.fake.requestsTo('POST').map((request) => request.body)).toEqual([enterprisePayload, smbPayload]);
    expect(report).toMatchObject({
      result: 'ok',
      dryRun: false,
      segments: 2,
      decisions: { created: 2, updated: 0, unchanged: 0, failed: 0 },
      adopted: 0,
      deadLettered: 0,
      carriedOver: [],
      requests: [
        { endpoint: 'GET /personas', status: '200', count: 1 },
        { endpoint: 'POST /personas', status: '201', count: 2 },
      ],
      retries: { 'GET /personas': 0, 'POST /personas': 0, 'PATCH /personas/{id}': 0 },
      rateLimited: 0,
      creditsSpent: 600,
    });
    const written = h.outputs.take();
    expect(written.registry).toEqual([
      {
        segment_key: 'revenue_tier/enterprise',
        persona_id: 'clx0000000000000000000003',
        content_hash: enterpriseHash,
        last_sent_at: NOW,
        last_payload: JSON.stringify({
          description: enterprisePayload.description,
          key_differentiators: enterprisePayload.key_differentiators,
          name: 'Enterprise Customer',
          pipeline_type: 'advanced',
          type: 'B2B',
        }),
        last_summary: written.registry[0]!.last_summary,
      },
      expect.objectContaining({ segment_key: 'revenue_tier/smb', persona_id: 'clx0000000000000000000004' }),
    ]);
    expect(JSON.parse(written.registry[0]!.last_summary)).toMatchObject({
      family: 'revenue_tier',
      segment: 'enterprise',
      count: 3,
      averages: { mrr: 12_000 },
      sampleIds: ['cus_e1', 'cus_e2', 'cus_e3'],
    });
    expect(written.audit[0]).toEqual({
      segment_key: 'revenue_tier/enterprise',
      family: 'revenue_tier',
      segment: 'enterprise',
      operation: 'create',
      status: 'sent',
      persona_id: 'clx0000000000000000000003',
      content_hash: enterpriseHash,
      http_status: 201,
      attempt: 1,
      latency_ms: 0,
      at: NOW,
      reasons: ['no persona sent yet'],
      error: null,
      request_body: null,
    });
    expect(written.audit).toHaveLength(2);
    expect(written.deadLetters).toEqual([]);
  });

  it('makes no call when nothing changed, and none for a change within the thresholds', async () => {
    const h = await start();
    applyAll(h.engine, tiers);
    await h.engine.flush(NOW);
    h.outputs.take();
    const before = h.fake.requests.length;

    const same = await h.engine.flush(NOW + 60_000);
    // 12,000 → 12,033 average MRR: 0.3 %, below the 5 % threshold, although the description's text changed.
    h.engine.applyProfile(customer('cus_e3', 13_100), 'customer:cus_e3');
    const drift = await h.engine.flush(NOW + 120_000);

    expect(h.fake.requests.length).toBe(before);
    expect(same.decisions).toEqual({ created: 0, updated: 0, unchanged: 2, failed: 0 });
    expect(drift.decisions).toEqual({ created: 0, updated: 0, unchanged: 2, failed: 0 });
    expect(drift.outcomes[0]).toEqual({
      segmentKey: 'revenue_tier/enterprise',
      action: 'none',
      result: 'unchanged',
      personaId: 'clx0000000000000000000003',
      reasons: ['changes within thresholds'],
    });
    expect(h.outputs.take()).toEqual({ registry: [], audit: [], deadLetters: [] });
  });

  it('PATCHes the persona when the summary changed materially', async () => {
    const h = await start();
    applyAll(h.engine, tiers);
    await h.engine.flush(NOW);
    h.outputs.take();

    applyAll(h.engine, [customer('cus_e4', 14_000), customer('cus_e5', 10_000)]);
    const report = await h.engine.flush(NOW + 60_000);

    expect(calls(h).slice(3)).toEqual(['PATCH /personas/clx0000000000000000000003 200']);
    const body = {
      name: 'Enterprise Customer',
      description: 'Revenue tier: enterprise. 5 customers, avg MRR $12,000.',
      pipeline_type: 'advanced',
      type: 'B2B',
      key_differentiators: ['Revenue tier: enterprise', 'Customers: 5', 'Avg MRR: $12,000', 'Top countries: US'],
    };
    expect(h.fake.requestsTo('PATCH')[0]!.body).toEqual(body);
    expect(h.fake.customPersonas()[0]!.description).toBe(body.description);
    expect(report.decisions).toEqual({ created: 0, updated: 1, unchanged: 1, failed: 0 });
    expect(report.creditsSpent).toBe(0);
    const written = h.outputs.take();
    expect(written.registry.map((entry) => [entry.segment_key, entry.content_hash])).toEqual([
      ['revenue_tier/enterprise', contentHash(body as MaveraPersonaPayload)],
    ]);
    expect(
      written.audit.map((record) => [record.operation, record.status, record.http_status, record.reasons]),
    ).toEqual([['update', 'sent', 200, ['count 3 → 5']]]);
  });

  it('clears a list field the new payload no longer has', async () => {
    const h = await start();
    applyAll(h.engine, [...tiers.slice(0, 2), customer('cus_e3', 13_000, { past_due: true, scheduled_churn: false })]);
    await h.engine.flush(NOW);
    expect(h.fake.requestsTo('POST')[0]!.body).toMatchObject({
      pains: ['100% of customers have a past-due invoice'],
    });
    h.engine.applyProfile(customer('cus_e3', 13_000, { past_due: false }), 'customer:cus_e3');
    await h.engine.flush(NOW + 60_000);
    expect(h.fake.requestsTo('PATCH')[0]!.body).toEqual({ ...enterprisePayload, pains: [] });
    expect(h.fake.customPersonas()[0]!.details['pains']).toEqual([]);
  });

  it('restored from the registry, a restarted flusher calls nothing for unchanged segments', async () => {
    const h = await start();
    applyAll(h.engine, tiers);
    await h.engine.flush(NOW);
    const registry = h.outputs.take().registry;
    const before = h.fake.requests.length;

    const restarted = h.newEngine();
    restarted.restoreRegistry(registry);
    applyAll(restarted, tiers);
    const report = await restarted.flush(NOW + 60_000);

    expect(h.fake.requests.length).toBe(before);
    expect(report.decisions).toEqual({ created: 0, updated: 0, unchanged: 2, failed: 0 });
  });

  it('forgets a profile on its tombstone: a segment below min_segment_size gets no call', async () => {
    const h = await start();
    applyAll(h.engine, tiers);
    h.engine.applyProfile(null, 'customer:cus_s1');
    const report = await h.engine.flush(NOW);
    expect(h.fake.requestsTo('POST').map((request) => (request.body as { name: string }).name)).toEqual([
      'Enterprise Customer',
    ]);
    expect(report.segments).toBe(1);
    expect(h.engine.memberCount).toBe(5);
  });
});

describe('FlushEngine: wiring', () => {
  it('runs overlapping flushes one after the other', async () => {
    const h = await start();
    applyAll(h.engine, tiers);
    const [first, second] = await Promise.all([h.engine.flush(NOW), h.engine.flush(NOW)]);
    expect(first.decisions.created).toBe(2);
    expect(second.decisions).toEqual({ created: 0, updated: 0, unchanged: 2, failed: 0 });
    expect(h.fake.requestsTo('POST')).toHaveLength(2);
  });

  it('hands every request to onRequest (the duration histogram)', async () => {
    const events: string[] = [];
    const h = await start({
      engine: { onRequest: (event) => events.push(`${event.endpoint} ${event.status} ${event.durationMs}`) },
    });
    applyAll(h.engine, tiers.slice(0, 3));
    await h.engine.flush(NOW);
    expect(events).toEqual(['GET /personas 200 0', 'POST /personas 201 0']);
  });

  it('refuses a profile record filed under another key', async () => {
    const h = await start();
    expect(() => {
      h.engine.applyProfile(customer('cus_1', 100), 'customer:cus_2');
    }).toThrow(new ProfileKeyMismatchError('customer:cus_1', 'customer:cus_2'));
  });
});

describe('FlushEngine: a lost registry never duplicates a persona', () => {
  it('adopts the oldest custom persona of the same name and PATCHes it', async () => {
    const h = await start();
    const original = h.fake.addPersona({ name: 'Enterprise Customer', description: 'from the seed script' });
    h.clock.advance(1_000);
    h.fake.addPersona({ name: 'Enterprise Customer', description: 'a duplicate of a later run' });
    applyAll(h.engine, tiers);
    const report = await h.engine.flush(NOW);

    expect(calls(h)).toEqual(['GET /personas 200', `PATCH /personas/${original.id} 200`, 'POST /personas 201']);
    expect(h.fake.requestsTo('PATCH')[0]!.body).toEqual({ ...enterprisePayload, pains: [] });
    expect(h.fake.customPersonas().map((persona) => persona.name)).toEqual([
      'Enterprise Customer',
      'Enterprise Customer',
      'Smb Customer',
    ]);
    expect(report).toMatchObject({
      decisions: { created: 1, updated: 1, unchanged: 0, failed: 0 },
      adopted: 1,
      creditsSpent: 300,
    });
    const written = h.outputs.take();
    expect(written.registry.map((entry) => [entry.segment_key, entry.persona_id])).toEqual([
      ['revenue_tier/enterprise', original.id],
      ['revenue_tier/smb', 'clx0000000000000000000005'],
    ]);
    expect(written.audit[0]!.reasons).toEqual([
      `adopted existing persona ${original.id} named "Enterprise Customer" (no registry entry)`,
      'no persona sent yet',
    ]);
  });

  it('adopts without a call when the listed persona already has the content', async () => {
    const h = await start({ fake: { listIncludesDetails: true } });
    applyAll(h.engine, tiers);
    await h.engine.flush(NOW);
    h.outputs.take();
    const before = h.fake.requests.length;

    const lost = h.newEngine();
    applyAll(lost, tiers);
    const report = await lost.flush(NOW + 60_000);

    expect(calls(h).slice(before)).toEqual(['GET /personas 200']);
    expect(report).toMatchObject({ decisions: { created: 0, updated: 0, unchanged: 2, failed: 0 }, adopted: 2 });
    const written = h.outputs.take();
    expect(written.registry.map((entry) => entry.persona_id)).toEqual([
      'clx0000000000000000000003',
      'clx0000000000000000000004',
    ]);
    expect(written.audit[0]).toMatchObject({
      operation: 'none',
      status: 'sent',
      attempt: 0,
      http_status: null,
      reasons: [
        'adopted existing persona clx0000000000000000000003 named "Enterprise Customer"',
        'its content already matches',
      ],
    });
  });

  it('never adopts a base persona or one another segment already owns', async () => {
    const h = await start();
    h.fake.personas()[0]!.name = 'Enterprise Customer';
    const owned = h.fake.addPersona({ name: 'Enterprise Customer' });
    h.engine.restoreRegistry([
      {
        segment_key: 'legacy_tiers/enterprise',
        persona_id: owned.id,
        content_hash: 'f'.repeat(64),
        last_sent_at: NOW - 86_400_000,
        last_payload: '{}',
        last_summary: '{}',
      },
    ]);
    applyAll(h.engine, tiers);
    await h.engine.flush(NOW);
    expect(calls(h)).toEqual(['GET /personas 200', 'POST /personas 201', 'POST /personas 201']);
    expect(h.fake.customPersonas().map((persona) => persona.name)).toEqual([
      'Enterprise Customer',
      'Enterprise Customer',
      'Smb Customer',
    ]);
  });
});

describe('FlushEngine: failures', () => {
  it('rides out 429s and 5xx: retries with backoff, carries over, converges without a duplicate', async () => {
    const h = await start();
    h.fake.rateLimitNext(2, 5, 'POST');
    h.fake.failNext(3, 503, { method: 'POST' });
    applyAll(h.engine, tiers.slice(0, 3));

    const first = await h.engine.flush(NOW);
    expect(calls(h)).toEqual([
      'GET /personas 200',
      'POST /personas 429',
      'POST /personas 429',
      'POST /personas 503',
      'GET /personas 200',
      'POST /personas 503',
    ]);
    expect(first).toMatchObject({
      result: 'partial',
      decisions: { created: 0, updated: 0, unchanged: 0, failed: 1 },
      carriedOver: ['revenue_tier/enterprise'],
      retries: { 'GET /personas': 0, 'POST /personas': 3, 'PATCH /personas/{id}': 0 },
      rateLimited: 2,
      creditsSpent: 0,
    });
    expect(h.engine.carriedOver).toEqual(['revenue_tier/enterprise']);
    // Retry-After 5 s twice, then full jitter (0.5 × 2,000 ms) after the 503.
    expect(h.clock.sleeps.filter((ms) => ms > 0)).toEqual([5_000, 5_000, 1_000]);
    const firstAudit = h.outputs.take().audit;
    expect(firstAudit.map((record) => [record.status, record.http_status, record.attempt])).toEqual([
      ['retrying', 429, 1],
      ['retrying', 429, 2],
      ['retrying', 503, 3],
      ['failed', 503, 4],
    ]);
    expect(firstAudit[3]!.reasons).toEqual([
      'no persona sent yet',
      'attempts exhausted: carried over to the next flush',
    ]);

    const second = await h.engine.flush(NOW + 60_000);
    expect(calls(h).slice(6)).toEqual([
      'GET /personas 200',
      'POST /personas 503',
      'GET /personas 200',
      'POST /personas 201',
    ]);
    expect(second).toMatchObject({
      result: 'ok',
      decisions: { created: 1, updated: 0, unchanged: 0, failed: 0 },
      carriedOver: [],
      retries: { 'GET /personas': 0, 'POST /personas': 2, 'PATCH /personas/{id}': 0 },
      creditsSpent: 300,
    });
    expect(h.outputs.take().audit.map((record) => [record.status, record.http_status, record.attempt])).toEqual([
      ['retrying', 503, 5],
      ['sent', 201, 6],
    ]);
    expect(h.fake.customPersonas()).toHaveLength(1);
    expect(h.fake.creditsUsed).toBe(300);
  });

  it('a create that failed after Mavera carried it out is adopted, not repeated', async () => {
    const h = await start();
    h.fake.failNext(1, 500, { method: 'POST', afterApply: true });
    applyAll(h.engine, tiers.slice(0, 3));
    const report = await h.engine.flush(NOW);
    expect(calls(h)).toEqual([
      'GET /personas 200',
      'POST /personas 500',
      'GET /personas 200',
      'PATCH /personas/clx0000000000000000000003 200',
    ]);
    expect(report).toMatchObject({ decisions: { created: 0, updated: 1, unchanged: 0, failed: 0 }, adopted: 1 });
    expect(h.fake.customPersonas()).toHaveLength(1);
  });

  it('a create that timed out is looked up before it is sent again', async () => {
    const h = await start();
    h.fake.delayNext(1, 2_000, 'POST');
    applyAll(h.engine, tiers.slice(0, 3));
    const report = await h.engine.flush(NOW);
    expect(h.fake.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'GET /personas',
      'POST /personas',
      'GET /personas',
      'PATCH /personas/clx0000000000000000000003',
    ]);
    expect(h.outputs.take().audit.map((record) => [record.status, record.http_status, record.error])).toEqual([
      ['retrying', null, 'Mavera POST /personas failed (timeout): no answer within 300 ms'],
      ['sent', 200, null],
    ]);
    expect(report.requests).toContainEqual({ endpoint: 'POST /personas', status: 'timeout', count: 1 });
    expect(h.fake.customPersonas()).toHaveLength(1);
  });

  it('loses no update: a PATCH that keeps failing is carried over and sends the newest payload when it succeeds', async () => {
    const h = await start();
    applyAll(h.engine, tiers.slice(0, 3));
    await h.engine.flush(NOW);
    h.fake.failNext(4, 502, { method: 'PATCH' });
    applyAll(h.engine, [customer('cus_e4', 12_000), customer('cus_e5', 12_000)]);
    const failed = await h.engine.flush(NOW + 60_000);
    expect(failed.carriedOver).toEqual(['revenue_tier/enterprise']);
    expect(h.fake.customPersonas()[0]!.description).toBe(enterprisePayload.description);

    applyAll(h.engine, [customer('cus_e6', 12_000)]);
    const recovered = await h.engine.flush(NOW + 120_000);
    expect(recovered.decisions).toEqual({ created: 0, updated: 1, unchanged: 0, failed: 0 });
    expect(h.fake.customPersonas()[0]!.description).toBe('Revenue tier: enterprise. 6 customers, avg MRR $12,000.');
    expect(h.engine.registryEntries()[0]!.content_hash).toBe(
      contentHash(h.fake.requestsTo('PATCH').at(-1)!.body as MaveraPersonaPayload),
    );
  });

  it('dead-letters a 400 with Mavera’s answer and does not send that payload again', async () => {
    const h = await start();
    h.fake.failNext(1, 400, { method: 'POST', code: 'invalid_persona' });
    applyAll(h.engine, tiers.slice(0, 3));
    const report = await h.engine.flush(NOW);

    expect(report).toMatchObject({
      result: 'partial',
      decisions: { created: 0, updated: 0, unchanged: 0, failed: 1 },
      deadLettered: 1,
      carriedOver: [],
    });
    const written = h.outputs.take();
    expect(written.deadLetters).toEqual([
      {
        topic: 'mavera.personas',
        partition: 0,
        offset: '0',
        key: 'revenue_tier/enterprise',
        reason:
          'POST /personas → 400: {"error":{"message":"Injected failure 400","type":"invalid_request_error","code":"invalid_persona","param":null}}',
        error_code: 'invalid_persona',
        value: Buffer.from(JSON.stringify(enterprisePayload)).toString('base64'),
        at: NOW,
      },
    ]);
    expect(
      written.audit.map((record) => [record.operation, record.status, record.http_status, record.attempt]),
    ).toEqual([['create', 'dead_lettered', 400, 1]]);
    expect(written.registry).toEqual([]);

    const again = await h.engine.flush(NOW + 60_000);
    expect(again).toMatchObject({ suppressed: 1, decisions: { created: 0, updated: 0, unchanged: 0, failed: 0 } });
    expect(h.fake.requestsTo('POST')).toHaveLength(1);

    applyAll(h.engine, [customer('cus_e4', 12_000)]);
    const changed = await h.engine.flush(NOW + 120_000);
    expect(changed.decisions.created).toBe(1);
    expect(h.fake.customPersonas()).toHaveLength(1);
  });

  it('stops the flush on 402 (account out of credits) and retries everything next flush', async () => {
    const h = await start();
    applyAll(h.engine, tiers);
    await h.engine.flush(NOW);
    h.outputs.take();
    h.fake.failNext(1, 402, { method: 'PATCH' });
    applyAll(h.engine, [customer('cus_e4', 12_000), customer('cus_s4', 400)]);

    const aborted = await h.engine.flush(NOW + 60_000);
    expect(aborted).toMatchObject({
      result: 'aborted',
      aborted: { endpoint: 'PATCH /personas/{id}', status: 402, code: 'credits_exhausted' },
      decisions: { created: 0, updated: 0, unchanged: 0, failed: 2 },
      deadLettered: 1,
      carriedOver: ['revenue_tier/enterprise', 'revenue_tier/smb'],
    });
    expect(h.fake.requestsTo('PATCH')).toHaveLength(1);
    expect(h.outputs.take().deadLetters.map((record) => record.error_code)).toEqual(['credits_exhausted']);

    const resumed = await h.engine.flush(NOW + 120_000);
    expect(resumed).toMatchObject({ result: 'ok', decisions: { created: 0, updated: 2, unchanged: 0, failed: 0 } });
  });

  it('a persona deleted in Mavera (404) is dropped from the registry and created again next flush', async () => {
    const h = await start();
    applyAll(h.engine, tiers.slice(0, 3));
    await h.engine.flush(NOW);
    const registry = h.outputs.take().registry;

    const restarted = h.newEngine();
    restarted.restoreRegistry([{ ...registry[0]!, persona_id: 'clx_deleted' }]);
    applyAll(restarted, [...tiers.slice(0, 3), customer('cus_e4', 12_000)]);
    const missing = await restarted.flush(NOW + 60_000);
    expect(missing).toMatchObject({ deadLettered: 1, carriedOver: ['revenue_tier/enterprise'] });
    expect(h.outputs.take().deadLetters.map((record) => record.error_code)).toEqual(['resource_not_found']);

    const healed = await restarted.flush(NOW + 120_000);
    expect(calls(h).slice(-3)).toEqual([
      'PATCH /personas/clx_deleted 404',
      'GET /personas 200',
      'PATCH /personas/clx0000000000000000000003 200',
    ]);
    expect(healed.decisions).toEqual({ created: 0, updated: 1, unchanged: 0, failed: 0 });
    expect(h.fake.customPersonas()).toHaveLength(1);
  });

  it('keeps records a sink could not take and writes them first on the next flush', async () => {
    const h = await start();
    applyAll(h.engine, tiers.slice(0, 3));
    h.outputs.failNext('registry');
    const error = await h.engine.flush(NOW).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FlushOutputError);
    expect((error as FlushOutputError).sink).toBe('registry');
    expect((error as FlushOutputError).report.decisions.created).toBe(1);
    expect(h.outputs.registry).toEqual([]);

    await h.engine.flush(NOW + 60_000);
    expect(h.outputs.batches).toEqual(['registry:1', 'audit:1']);
    expect(h.outputs.registry.map((entry) => entry.persona_id)).toEqual(['clx0000000000000000000003']);
    expect(h.fake.requestsTo('POST')).toHaveLength(1);
  });
});

describe('FlushEngine: dry run', () => {
  it('calls nothing and reports the would-be requests as audit records', async () => {
    const h = await start({ mavera: { dryRun: true } });
    applyAll(h.engine, tiers);
    const report = await h.engine.flush(NOW);

    expect(h.engine.dryRun).toBe(true);
    expect(h.fake.requests).toEqual([]);
    expect(report).toMatchObject({
      dryRun: true,
      result: 'ok',
      decisions: { created: 2, updated: 0, unchanged: 0, failed: 0 },
      requests: [],
      creditsSpent: 0,
    });
    const written = h.outputs.take();
    expect(written.registry).toEqual([]);
    expect(written.audit.map((record) => [record.operation, record.status, record.attempt, record.persona_id])).toEqual(
      [
        ['create', 'dry_run', 0, null],
        ['create', 'dry_run', 0, null],
      ],
    );
    expect(written.audit.map((record) => JSON.parse(record.request_body!) as unknown)).toEqual([
      enterprisePayload,
      smbPayload,
    ]);

    const repeat = await h.engine.flush(NOW + 60_000);
    expect(repeat.decisions).toEqual({ created: 0, updated: 0, unchanged: 2, failed: 0 });
    expect(h.outputs.take().audit).toEqual([]);
  });

  it('without an API key it is a dry run', async () => {
    const h = await start({ mavera: { apiKey: undefined } });
    applyAll(h.engine, tiers);
    await h.engine.flush(NOW);
    expect(h.engine.dryRun).toBe(true);
    expect(h.fake.requests).toEqual([]);
  });

  it('shows "no changes" after a real flush, and the update a real flush would send after a change', async () => {
    const h = await start();
    applyAll(h.engine, tiers);
    await h.engine.flush(NOW);
    const registry = h.outputs.take().registry;
    const before = h.fake.requests.length;

    const dry = h.newEngine({
      mavera: { apiKey: 'ignored', baseUrl: h.fake.url, rateLimitPerMin: 60, sandbox: false, dryRun: true },
    });
    dry.restoreRegistry(registry);
    applyAll(dry, tiers);
    const nothing = await dry.flush(NOW + 60_000);
    expect(nothing.decisions).toEqual({ created: 0, updated: 0, unchanged: 2, failed: 0 });
    expect(h.outputs.take().audit).toEqual([]);

    applyAll(dry, [customer('cus_e4', 12_000)]);
    await dry.flush(NOW + 120_000);
    const audit = h.outputs.take().audit;
    expect(audit.map((record) => [record.operation, record.status, record.persona_id, record.reasons])).toEqual([
      ['update', 'dry_run', 'clx0000000000000000000003', ['count 3 → 4']],
    ]);
    expect(JSON.parse(audit[0]!.request_body!)).toMatchObject({
      description: 'Revenue tier: enterprise. 4 customers, avg MRR $12,000.',
    });
    expect(h.fake.requests.length).toBe(before);
  });
});

describe('formatDryRunDiff', () => {
  it('prints "no changes" when a dry run would send nothing', () => {
    expect(formatDryRunDiff([])).toBe('no changes\n');
  });

  it('prints one block per would-be request', async () => {
    const h = await start();
    applyAll(h.engine, tiers);
    await h.engine.flush(NOW);
    const dry = h.newEngine({
      mavera: { apiKey: undefined, baseUrl: h.fake.url, rateLimitPerMin: 60, sandbox: false, dryRun: true },
    });
    dry.restoreRegistry(h.outputs.take().registry);
    applyAll(dry, [...tiers, customer('cus_e4', 12_000)]);
    await dry.flush(NOW + 60_000);
    const body = JSON.stringify({
      ...enterprisePayload,
      description: 'Revenue tier: enterprise. 4 customers, avg MRR $12,000.',
      key_differentiators: ['Revenue tier: enterprise', 'Customers: 4', 'Avg MRR: $12,000', 'Top countries: US'],
    });
    expect(formatDryRunDiff(h.outputs.take().audit)).toBe(
      `update revenue_tier/enterprise → clx0000000000000000000003 (count 3 → 4)\n  ${body}\n`,
    );
  });
});
