import type { EventSink } from '../../adapters/kafka/event-publisher.js';
import type { Logger } from '../../log/logger.js';
import type { CanonicalEvent } from '../../records/canonical-event.js';
import { segmentCanonicalEvents } from '../../sources/canonical-events.js';
import { mapConcurrently } from '../concurrency.js';
import { CursorMismatchError, type CursorFile, type SegmentCursor } from '../cursor-file.js';
import type { ProgressReporter } from '../progress.js';
import { backfillIdentifyMessage } from './identify-message.js';
import { ProfileApiError, type ProfileApiClient, type UserTraits } from './profile-api.js';
import { userListHash } from './user-list.js';

export interface SegmentBackfillOptions {
  readonly users: readonly string[];
  readonly restart: boolean;
  /** Users whose traits are fetched at once (all share the rate limit). */
  readonly concurrency: number;
  /** Users per publish and cursor write. */
  readonly batchSize: number;
}

export interface SegmentBackfillDeps {
  readonly client: ProfileApiClient;
  readonly sink: EventSink;
  /** Full name of the segment.events topic. */
  readonly topic: string;
  readonly cursorFile: CursorFile<SegmentCursor>;
  readonly progress: ProgressReporter;
  readonly logger: Logger;
  readonly now: () => number;
  readonly signal?: AbortSignal | undefined;
}

export interface SegmentBackfillOutcome {
  readonly status: 'finished' | 'already_finished';
  readonly published: number;
  /** Users the Profile API has no profile for (404). */
  readonly notFound: number;
  /** Users whose traits could not be read (logged with the user id and the HTTP status). */
  readonly failed: number;
}

type UserResult =
  | { readonly userId: string; readonly profile: UserTraits | null }
  | { readonly userId: string; readonly error: ProfileApiError };

/**
 * `backfill segment --users FILE`: each user's Profile API traits, published on segment.events as the identify call
 * that would have set them (deterministic messageId from user id + traits). Users go in batches: fetched
 * concurrently under the shared rate limit, published, then the cursor records how far the list is done, so a
 * killed run continues with the next batch. A bad token stops the run; any other per-user failure is logged and
 * counted, and the run goes on.
 */
export async function runSegmentBackfill(
  options: SegmentBackfillOptions,
  deps: SegmentBackfillDeps,
): Promise<SegmentBackfillOutcome> {
  const { cursorFile, progress, logger, signal, client } = deps;
  const listHash = userListHash(options.users);
  const loaded = options.restart ? null : await cursorFile.load();
  if (loaded !== null && loaded.users.list_hash !== listHash) {
    throw new CursorMismatchError(cursorFile.path, 'it holds a backfill of another user list');
  }
  if (loaded?.users.finished_at != null) {
    return { status: 'already_finished', published: 0, notFound: 0, failed: 0 };
  }
  let cursor: SegmentCursor = loaded ?? {
    version: 1,
    source: 'segment',
    users: { list_hash: listHash, total: options.users.length, done: 0, last: null, finished_at: null },
  };
  await cursorFile.save(cursor);

  progress.label = 'backfill segment (users)';
  progress.total = options.users.length - cursor.users.done;
  const tally = { published: 0, notFound: 0, failed: 0 };
  for (let start = cursor.users.done; start < options.users.length; start += options.batchSize) {
    signal?.throwIfAborted();
    const batch = options.users.slice(start, start + options.batchSize);
    const results = await mapConcurrently(batch, options.concurrency, async (userId): Promise<UserResult> => {
      try {
        return { userId, profile: await client.userTraits(userId) };
      } catch (error) {
        if (error instanceof ProfileApiError && !error.fatal) return { userId, error };
        throw error;
      }
    });
    signal?.throwIfAborted();
    const events: CanonicalEvent[] = [];
    for (const result of results) {
      if ('error' in result) {
        tally.failed++;
        progress.skipped++;
        logger.warn({ userId: result.userId, status: result.error.status }, result.error.message);
        continue;
      }
      if (result.profile === null) {
        tally.notFound++;
        progress.skipped++;
        logger.debug({ userId: result.userId }, 'no Segment profile for this user id');
        continue;
      }
      const message = backfillIdentifyMessage(
        result.userId,
        result.profile.traits,
        result.profile.updatedAt,
        deps.now(),
      );
      const canonical = segmentCanonicalEvents(JSON.stringify(message), deps.now());
      if (!canonical.ok) {
        tally.failed++;
        progress.skipped++;
        logger.warn(
          { userId: result.userId },
          `traits not publishable: ${canonical.errors.map((e) => e.message).join('; ')}`,
        );
        continue;
      }
      events.push(...canonical.events);
    }
    await deps.sink.publish(deps.topic, events);
    tally.published += events.length;
    progress.published += events.length;
    progress.objects += batch.length;
    progress.pages = client.pages;
    cursor = {
      ...cursor,
      users: { ...cursor.users, done: start + batch.length, last: batch.at(-1) ?? cursor.users.last },
    };
    await cursorFile.save(cursor);
  }
  cursor = { ...cursor, users: { ...cursor.users, finished_at: Math.floor(deps.now() / 1000) } };
  await cursorFile.save(cursor);
  return { status: 'finished', ...tally };
}
