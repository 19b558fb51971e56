import type { PeerId } from "@libp2p/interface";

/** What a peer did, as the score sees it. */
export type PeerEvent =
  | "block" // delivered a verified block
  | "timeout" // did not answer a request in time
  | "dont-have-after-have" // said it had a block, then did not send it
  | "bad-block" // sent bytes that do not match the CID
  | "protocol-violation"; // sent garbage

const DELTA: Record<PeerEvent, number> = {
  block: 1,
  timeout: -10,
  "dont-have-after-have": -5,
  "bad-block": -100,
  "protocol-violation": -100,
};

export interface PeerScoreOptions {
  /** At or below this score a peer is banned. One bad block or one garbage message is enough. */
  banThreshold?: number;
  /** Good behaviour earns credit up to this, so a long-serving peer survives a few time-outs. */
  maxScore?: number;
  banDurationMs?: number;
  now?: () => number;
}

/**
 * Scores peers by their behaviour in block exchange. Misbehaviour that proves bad intent or a
 * broken implementation (a wrong block, garbage) bans at once; time-outs ban after a few in a row.
 * A ban expires, since an overloaded peer may recover; its score restarts from zero.
 */
export class PeerScoreboard {
  readonly #scores = new Map<string, number>();
  readonly #bannedUntil = new Map<string, number>();
  readonly #banThreshold: number;
  readonly #maxScore: number;
  readonly #banDurationMs: number;
  readonly #now: () => number;

  constructor(options: PeerScoreOptions = {}) {
    this.#banThreshold = options.banThreshold ?? -50;
    this.#maxScore = options.maxScore ?? 20;
    this.#banDurationMs = options.banDurationMs ?? 10 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Records an event; returns true when it got the peer banned. */
  record(peer: PeerId, event: PeerEvent): boolean {
    const key = peer.toString();
    const score = Math.min(this.#maxScore, (this.#scores.get(key) ?? 0) + DELTA[event]);
    if (score <= this.#banThreshold) {
      this.#scores.delete(key);
      this.#bannedUntil.set(key, this.#now() + this.#banDurationMs);
      return true;
    }
    this.#scores.set(key, score);
    return false;
  }

  score(peer: PeerId): number {
    return this.#scores.get(peer.toString()) ?? 0;
  }

  isBanned(peer: PeerId): boolean {
    const key = peer.toString();
    const until = this.#bannedUntil.get(key);
    if (until === undefined) return false;
    if (this.#now() >= until) {
      this.#bannedUntil.delete(key);
      return false;
    }
    return true;
  }
}
