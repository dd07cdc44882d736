import type { ChildProcess } from 'node:child_process';

const living = new Set<ChildProcess>();
let hooked = false;

/**
 * Kills `child` if this process exits first (an 'exit' handler: a normal exit or an uncaught error). A SIGKILL of
 * this process runs no handler; the child's own watchdog (its stdin closing) covers that. Returns a function that
 * forgets the child once it has exited.
 */
export function killOnExit(child: ChildProcess): () => void {
  living.add(child);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const each of living) each.kill('SIGKILL');
    });
  }
  return () => {
    living.delete(child);
  };
}
