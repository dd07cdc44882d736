import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { HealthRegistry } from '../../../src/adapters/health/health-registry.js';
import { onShutdownSignals, type ShutdownSignal } from '../../../src/adapters/lifecycle/shutdown.js';
import { createLogger } from '../../../src/log/logger.js';

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    setTimeout(resolve, ms);
  });

function harness(drain: () => Promise<void>, graceMs: number) {
  const source = new EventEmitter();
  const exits: number[] = [];
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      callback();
    },
  });
  const health = new HealthRegistry();
  const handle = onShutdownSignals({
    drain,
    graceMs,
    logger: createLogger({ level: 'info', name: 'test', destination }),
    exit: (code) => exits.push(code),
    source,
    health,
  });
  const signal = (name: ShutdownSignal) => source.emit(name);
  const messages = () => lines.map((line) => line['msg']);
  return { source, exits, handle, signal, messages, health };
}

describe('onShutdownSignals', () => {
  it('first SIGTERM: drains once, turns readiness off, then exits 0', async () => {
    let drains = 0;
    const { exits, signal, handle, messages, health } = harness(async () => {
      drains += 1;
      await sleep(30);
    }, 1_000);
    expect(health.evaluate('readiness').ok).toBe(true);
    signal('SIGTERM');
    expect(handle.draining).toBe(true);
    expect(health.evaluate('readiness')).toEqual({
      ok: false,
      checks: { shutdown: { ok: false, detail: 'draining: shutting down' } },
    });
    expect(exits).toEqual([]);
    await sleep(80);
    expect(drains).toBe(1);
    expect(exits).toEqual([0]);
    expect(messages()).toEqual(['SIGTERM received: draining', 'drained: exiting 0']);
    handle.dispose();
  });

  it('exits 1 and says why when the drain outlasts the grace period', async () => {
    const { exits, signal, messages, handle } = harness(() => sleep(300), 50);
    signal('SIGINT');
    await sleep(100);
    expect(exits).toEqual([1]);
    expect(messages()).toEqual(['SIGINT received: draining', 'drain did not finish within 50 ms: exiting 1']);
    // The drain finishing later changes nothing.
    await sleep(300);
    expect(exits).toEqual([1]);
    handle.dispose();
  });

  it('exits 1 when the drain fails', async () => {
    const { exits, signal, messages, handle } = harness(() => Promise.reject(new Error('commit failed')), 1_000);
    signal('SIGTERM');
    await sleep(10);
    expect(exits).toEqual([1]);
    expect(messages()).toEqual(['SIGTERM received: draining', 'drain failed: exiting 1']);
    handle.dispose();
  });

  it('a second signal exits at once: 143 for SIGTERM, 130 for SIGINT', () => {
    for (const [second, code] of [
      ['SIGTERM', 143],
      ['SIGINT', 130],
    ] as const) {
      let drains = 0;
      const { exits, signal, messages, handle } = harness(async () => {
        drains += 1;
        await sleep(500);
      }, 5_000);
      signal('SIGTERM');
      signal(second);
      expect(exits).toEqual([code]);
      expect(drains).toBe(1);
      expect(messages()).toEqual([
        'SIGTERM received: draining',
        `second ${second} while draining: exiting at once without finishing the drain`,
      ]);
      handle.dispose();
    }
  });

  it('dispose removes its signal listeners and its readiness check', () => {
    const { source, handle, health } = harness(() => Promise.resolve(), 1_000);
    expect(source.listenerCount('SIGTERM')).toBe(1);
    expect(source.listenerCount('SIGINT')).toBe(1);
    handle.dispose();
    expect(source.listenerCount('SIGTERM')).toBe(0);
    expect(source.listenerCount('SIGINT')).toBe(0);
    expect(health.evaluate('readiness')).toEqual({ ok: true, checks: {} });
  });
});
