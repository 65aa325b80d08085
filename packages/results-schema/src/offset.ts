import { StepstreamError } from "./errors.js";

/**
 * Offsets: how a reader says where it is in an execution's log.
 *
 * Every record has a sequence number `Seq` (0, 1, 2, … with no gaps) assigned by the writer's
 * conditional append (see `README.md`, "Why a reader can never skip a record"). Clients see it only as
 * an opaque offset string: 16 decimal digits, zero-padded, so that the lexicographic order of offsets
 * is the delivery order. Two sentinel offsets exist, as in the Durable Streams protocol:
 * `-1` (before the first record) and `now` (after the last record that exists at read time).
 */
export const OFFSET_DIGITS = 16;
/** The sentinel a reader sends to start before the first record (Durable Streams §8). Never sent back. */
export const START_OFFSET = "-1";
/**
 * The offset of the position before the first record, as the server reports it (`Stream-Next-Offset`
 * of an empty stream, a synthetic record at the start). Durable Streams §8 forbids servers to
 * generate the sentinels `-1` and `now`, so the beginning has its own 16-character token; it sorts
 * before every record's offset (`-` is below `0`), and reading after it reads from the beginning.
 */
export const BEGINNING_OFFSET = "-000000000000001";
/** The offset after the current last record. */
export const NOW_OFFSET = "now";
/** Largest sequence number an offset can carry. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

const OFFSET_RE = /^\d{16}$/;

/**
 * Encodes a sequence number as an offset.
 *
 * @example
 * ```ts
 * encodeOffset(3); // "0000000000000003"
 * ```
 */
export function encodeOffset(seq: number): string {
  if (!Number.isSafeInteger(seq) || seq < 0) {
    throw new StepstreamError("InvalidOffset", `sequence number must be a non-negative integer, got ${seq}`);
  }
  return String(seq).padStart(OFFSET_DIGITS, "0");
}

/** Decodes a record offset (not a sentinel) to its sequence number, or throws `InvalidOffset`. */
export function decodeOffset(offset: string): number {
  if (offset === BEGINNING_OFFSET) return -1;
  if (!OFFSET_RE.test(offset)) {
    throw new StepstreamError(
      "InvalidOffset",
      `offset must be ${START_OFFSET}, ${NOW_OFFSET}, ${BEGINNING_OFFSET} or ${OFFSET_DIGITS} digits, got ${JSON.stringify(offset.slice(0, 40))}`,
    );
  }
  const seq = Number(offset);
  if (!Number.isSafeInteger(seq)) throw new StepstreamError("InvalidOffset", "offset is out of range");
  return seq;
}

/** Where a read starts: after a sequence number (`-1` = from the beginning), or at the current end. */
export type ReadPosition = { kind: "after"; seq: number } | { kind: "now" };

/**
 * Parses an `offset` query parameter. `undefined` and `-1` mean the beginning.
 *
 * @example
 * ```ts
 * parseReadPosition("-1"); // { kind: "after", seq: -1 }
 * parseReadPosition("0000000000000004"); // { kind: "after", seq: 4 }
 * ```
 */
export function parseReadPosition(raw: string | undefined | null): ReadPosition {
  if (raw === undefined || raw === null || raw === START_OFFSET) return { kind: "after", seq: -1 };
  if (raw === NOW_OFFSET) return { kind: "now" };
  return { kind: "after", seq: decodeOffset(raw) };
}

/**
 * The offset that a reader positioned after `seq` reports as its next offset: the offset of record
 * `seq`, or {@link BEGINNING_OFFSET} before the first record (never a sentinel, §8).
 */
export function offsetAfter(seq: number): string {
  return seq < 0 ? BEGINNING_OFFSET : encodeOffset(seq);
}

/** True for anything a reader may pass as `offset`: `-1`, `now`, the beginning token or a record's offset. */
export function isOffsetParameter(raw: string): boolean {
  return raw === START_OFFSET || raw === NOW_OFFSET || raw === BEGINNING_OFFSET || OFFSET_RE.test(raw);
}
