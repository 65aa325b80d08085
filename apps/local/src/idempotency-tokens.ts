/**
 * The `ClientRequestToken`s the DynamoDB emulator's `TransactWriteItems` has seen, each kept for
 * `ttlMs` after its first successful use (AWS: "valid for 10 minutes", API reference,
 * TransactWriteItems, `ClientRequestToken`).
 *
 * The AWS SDK fills in a fresh token for every `TransactWriteItems` call that has none (the
 * parameter is an idempotency token), so the emulator sees one new token per successful
 * transaction: thousands per run. Expired tokens are forgotten from the oldest on and the sweep
 * stops at the first live one, so a request costs O(1) amortised, however many are held. (A full
 * scan per request made every transaction O(tokens held): runs slowed down run after run, for
 * 10 minutes.)
 */
export class IdempotencyTokens {
  // A Map iterates in insertion order, and `at` never decreases along it: the oldest come first.
  private readonly tokens = new Map<string, { hash: string; at: number }>();
  private last = Number.NEGATIVE_INFINITY;
  /** Entries the sweeps have looked at, in all (a check that a request's work stays O(1)). */
  visited = 0;

  constructor(private readonly ttlMs: number) {}

  get size(): number {
    return this.tokens.size;
  }

  /** The request hash seen with `token` within the last `ttlMs`, after forgetting expired ones. */
  get(token: string, now: number): string | undefined {
    for (const [t, v] of this.tokens) {
      this.visited++;
      if (now - v.at <= this.ttlMs) break;
      this.tokens.delete(t);
    }
    return this.tokens.get(token)?.hash;
  }

  /** Records `token`'s first successful use (a later `set` of a held token changes nothing). */
  set(token: string, hash: string, now: number): void {
    if (this.tokens.has(token)) return;
    // A clock that steps back must not put a younger entry before an older one.
    this.last = Math.max(this.last, now);
    this.tokens.set(token, { hash, at: this.last });
  }
}
