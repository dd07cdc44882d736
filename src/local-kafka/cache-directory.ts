import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where resolved local infrastructure (the Apache Kafka classpath, the registry archive) is kept between runs:
 * `PERSONA_STREAM_CACHE_DIR`, else `$XDG_CACHE_HOME/persona-stream`, else `~/.cache/persona-stream`.
 */
export function localCacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['PERSONA_STREAM_CACHE_DIR']?.trim();
  if (explicit) return explicit;
  const xdg = env['XDG_CACHE_HOME']?.trim();
  return join(xdg || join(homedir(), '.cache'), 'persona-stream');
}
