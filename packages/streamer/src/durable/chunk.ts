import { decodeOffset, isTerminalType, offsetAfter, type ResultRecord } from "@stepstream/results-schema";
import { follow } from "../follow.js";
import { atClosedTail, BASE_HEADERS, type Ctx, cursorFor, followOptions } from "./context.js";
import {
  CACHE_IMMUTABLE,
  CACHE_NONE,
  entityTag,
  HEADER,
  JSON_CONTENT_TYPE,
  jsonArrayBody,
  MAX_CHUNK_BYTES,
  matchesEntityTag,
  recordJson,
} from "./protocol.js";

/** A bounded JSON-mode body being filled from `follow()` events (catch-up and long-poll `200`s). */
export class Chunk {
  readonly jsons: string[] = [];
  private bytes = 0;
  /** Set when a record was left out for lack of room: more is readable now. */
  full = false;
  /** Set once the chunk reaches the terminal record (returned, or expired). */
  closed = false;

  constructor(
    /** Position after the last record taken (or passed over). */
    public afterSeq: number,
    private readonly maxRecords: number,
    private readonly maxBytes: number,
  ) {}

  /** Takes records in order while there is room; returns `false` once full. */
  add(records: readonly ResultRecord[], eventAfterSeq: number): boolean {
    for (const record of records) {
      const json = recordJson(record);
      const size = Buffer.byteLength(json) + 1;
      if (
        this.jsons.length > 0 &&
        (this.jsons.length >= this.maxRecords || this.bytes + size > this.maxBytes)
      ) {
        this.full = true;
        return false;
      }
      this.jsons.push(json);
      this.bytes += size;
      if (record.Synthetic !== true) this.afterSeq = decodeOffset(record.Offset);
      if (isTerminalType(record.Type)) this.closed = true;
    }
    this.afterSeq = Math.max(this.afterSeq, eventAfterSeq);
    return true;
  }
}

export function newChunk(ctx: Ctx, afterSeq: number): Chunk {
  return new Chunk(afterSeq, ctx.cfg.pageSize, MAX_CHUNK_BYTES);
}

/**
 * Fills `chunk` with what is readable now after `chunk.afterSeq` (a catch-up `follow()`); returns
 * whether the read reached the current end of the log (`Stream-Up-To-Date`).
 */
export async function fillChunk(ctx: Ctx, chunk: Chunk): Promise<boolean> {
  if (chunk.closed || chunk.full) return chunk.closed;
  let upToDate = false;
  for await (const ev of follow(followOptions(ctx, chunk.afterSeq, { live: false }))) {
    if (ev.kind === "records") {
      if (!chunk.add(ev.records, ev.afterSeq)) break;
    } else if (ev.kind === "end") {
      chunk.afterSeq = Math.max(chunk.afterSeq, ev.afterSeq);
      if (ev.reason === "terminal") chunk.closed = true; // an expired terminal record still closes
      upToDate = ev.reason === "caught-up" || ev.reason === "terminal";
    }
  }
  if (!chunk.full && atClosedTail(ctx, chunk.afterSeq)) chunk.closed = true;
  return upToDate && !chunk.full;
}

/**
 * Sends a `200` JSON-mode response for a chunk read from `startSeq`, or `304 Not Modified` when
 * the request's `If-None-Match` names this response's `ETag` (§10.1).
 */
export async function sendChunk(ctx: Ctx, startSeq: number, chunk: Chunk, upToDate: boolean): Promise<void> {
  const next = offsetAfter(chunk.afterSeq);
  const closed = chunk.closed;
  const etag = entityTag(offsetAfter(startSeq), next, closed);
  const headers: Record<string, string> = {
    [HEADER.contentType]: JSON_CONTENT_TYPE,
    ...BASE_HEADERS,
    [HEADER.nextOffset]: next,
    [HEADER.etag]: etag,
    [HEADER.cacheControl]: closed || !upToDate ? CACHE_IMMUTABLE : CACHE_NONE,
  };
  if (upToDate || closed) headers[HEADER.upToDate] = "true";
  // The cursor is required on live responses and optional on catch-up ones; omitted once closed.
  if (closed) headers[HEADER.closed] = "true";
  else headers[HEADER.cursor] = cursorFor(ctx);
  if (matchesEntityTag(ctx.req.ifNoneMatch, etag)) {
    const { [HEADER.contentType]: _type, ...notModified } = headers;
    ctx.sink.open(304, notModified);
    await ctx.sink.end();
    return;
  }
  ctx.sink.open(200, headers);
  await ctx.sink.write(jsonArrayBody(chunk.jsons));
  await ctx.sink.end();
}
