export type Cleanup = () => Promise<void>;

/** What one stage of a run started: its cleanups, and starts still under way that it must wait for. */
export class TeardownStage {
  readonly cleanups: Cleanup[] = [];
  readonly starting: Promise<unknown>[] = [];

  add(cleanup: Cleanup): void {
    this.cleanups.push(cleanup);
  }
}

/**
 * What a run started, stopped in reverse order of stages. A stage first waits for its starts still under way (a
 * client left connecting to a stopped broker spins forever), then runs its cleanups side by side (the roles leave
 * their groups concurrently); a failing cleanup is reported without keeping the others from running, so every Kafka
 * client is disconnected before the broker stops.
 */
export class Teardown {
  private readonly stages: TeardownStage[] = [];

  /** A new stage, stopped before every earlier one. */
  stage(): TeardownStage {
    const stage = new TeardownStage();
    this.stages.push(stage);
    return stage;
  }

  async run(onError: (error: unknown) => void): Promise<void> {
    for (const stage of this.stages.splice(0).reverse()) {
      await Promise.allSettled(stage.starting);
      await Promise.all(
        stage.cleanups.map(async (cleanup) => {
          try {
            await cleanup();
          } catch (error) {
            onError(error);
          }
        }),
      );
    }
  }
}

interface Stoppable {
  stop?(): Promise<void>;
  close?(): Promise<void>;
}

/**
 * Starts components concurrently; whatever started is added to `stage` for cleanup (the stage waits for these starts
 * before it stops anything), and the first failure is rethrown once every start has settled.
 */
export async function startTogether<const T extends readonly Promise<Stoppable>[]>(
  stage: TeardownStage,
  starts: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settling = Promise.allSettled(starts).then((settled) => {
    for (const result of settled) {
      if (result.status !== 'fulfilled') continue;
      const started = result.value;
      stage.add(async () => {
        if (started.stop !== undefined) await started.stop();
        else await started.close?.();
      });
    }
    return settled;
  });
  stage.starting.push(settling);
  const settled = await settling;
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed !== undefined) {
    const reason: unknown = failed.reason;
    throw reason instanceof Error ? reason : new Error(String(reason));
  }
  return settled.map((result) => (result as PromiseFulfilledResult<Stoppable>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}
