import type { FlushReport } from '../flusher/flush-report.js';

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** What the demo's roles have done so far, fed by their observer callbacks. */
export class DemoProgress {
  /** Event records the processor has handled. */
  records = 0;
  profilesWritten = 0;
  deadLetters = 0;
  flushes = 0;
  /** Event-time watermark per partition, as the processor last reported it. */
  readonly watermarks = new Map<number, number>();
  lastFlush: FlushReport | undefined;
  private previousAccepted = 0;
  private previousAt: number;

  constructor(private readonly startedAt: number) {
    this.previousAt = startedAt;
  }

  batchProcessed(report: {
    readonly partition: number;
    readonly records: number;
    readonly profiles: number;
    readonly deadLetters: readonly unknown[];
    readonly watermark: number;
  }): void {
    this.watermarks.set(report.partition, report.watermark);
    this.records += report.records;
    this.profilesWritten += report.profiles;
    this.deadLetters += report.deadLetters.length;
  }

  flushed(report: FlushReport): void {
    this.flushes += 1;
    this.lastFlush = report;
  }

  /**
   * One progress line: elapsed time, the simulated date the traffic has reached, events accepted by the connectors
   * (and their rate since the previous line), events processed, profiles written, flushes.
   */
  line(now: number, accepted: number, simulatedAt: number): string {
    const seconds = (now - this.previousAt) / 1_000;
    const rate = seconds > 0 ? (accepted - this.previousAccepted) / seconds : 0;
    this.previousAccepted = accepted;
    this.previousAt = now;
    const simulated = Number.isFinite(simulatedAt) ? new Date(simulatedAt).toISOString().slice(0, 10) : '-';
    const flush = this.lastFlush;
    const personas =
      flush === undefined
        ? ''
        : ` (last: ${NUMBER.format(flush.decisions.created)} create, ${NUMBER.format(flush.decisions.updated)} update` +
          `${flush.dryRun ? ' would be sent' : ' sent'})`;
    return (
      `demo: ${((now - this.startedAt) / 1_000).toFixed(1)} s | simulated ${simulated} | events in ` +
      `${NUMBER.format(accepted)} (${NUMBER.format(rate)}/s) | processed ${NUMBER.format(this.records)} | profiles ` +
      `written ${NUMBER.format(this.profilesWritten)} | flushes ${NUMBER.format(this.flushes)}${personas}\n`
    );
  }
}
