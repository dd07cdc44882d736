import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Configured secrets (write keys, tokens), compared as SHA-256 digests with timingSafeEqual against every one of
 * them, so the time taken reveals neither a secret's length nor its prefix, nor which of them matched.
 */
export class SecretSet {
  private readonly digests: readonly Buffer[];

  constructor(secrets: readonly string[]) {
    this.digests = secrets.map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  has(candidate: string): boolean {
    const given = digest(candidate);
    let matched = false;
    for (const accepted of this.digests) matched = timingSafeEqual(given, accepted) || matched;
    return matched;
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}
