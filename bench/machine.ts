import { cpus, hostname, loadavg, totalmem } from 'node:os';

/** What the figures were measured on: they mean nothing without it. */
export interface Machine {
  readonly description: string;
  /** For file names: the host name, lowercase, letters, digits and dashes. */
  readonly slug: string;
  readonly node: string;
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryGiB: number;
  /** 1-minute load average when the bench started: another busy process on a small machine moves every figure. */
  readonly loadAverageAtStart: number;
}

export function describeMachine(): Machine {
  const cpuModel = cpus()[0]?.model.trim() ?? 'unknown cpu';
  const memoryGiB = Math.round(totalmem() / 2 ** 30);
  const slug =
    hostname()
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'machine';
  return {
    description: `node ${process.version}, ${process.platform}/${process.arch}, ${String(cpus().length)} × ${cpuModel}, ${String(memoryGiB)} GiB`,
    slug,
    node: process.version,
    cpuModel,
    cpus: cpus().length,
    memoryGiB,
    loadAverageAtStart: loadavg()[0] ?? 0,
  };
}
