import { allCommand } from './all.js';
import { backfillCommand } from './backfill.js';
import type { Command } from './command.js';
import { demoCommand } from './demo.js';
import { explainMrrCommand } from './explain-mrr-command.js';
import { flusherCommand } from './flusher.js';
import { processorCommand } from './processor.js';
import { repairWatermarkCommand } from './repair-watermark.js';
import { replayCommand } from './replay.js';
import { segmentConnectorCommand } from './segment-connector.js';
import { simulateCommand } from './simulate.js';
import { stripeConnectorCommand } from './stripe-connector.js';
import { topicsCommand } from './topics.js';

export const commands: readonly Command[] = [
  demoCommand,
  simulateCommand,
  explainMrrCommand,
  topicsCommand,
  stripeConnectorCommand,
  segmentConnectorCommand,
  processorCommand,
  flusherCommand,
  allCommand,
  backfillCommand,
  replayCommand,
  repairWatermarkCommand,
];
