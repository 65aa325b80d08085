import {
  decodeOffset,
  isTerminalType,
  offsetAfter,
  parseReadPosition,
  type ResultRecord,
  StepstreamError,
  syntheticTimeout,
} from "@stepstream/results-schema";
import type { StreamerConfig } from "./config.js";
import {
  CACHE_IMMUTABLE,
  CACHE_NONE,
  cursorInterval,
  entityTag,
  HEADER,
  JSON_CONTENT_TYPE,
  jsonArrayBody,
  MAX_CHUNK_BYTES,
  recordJson,
  responseCursor,
  SSE_CONTENT_TYPE,
  SSE_HEARTBEAT,
  type SseControl,
  sseControlEvent,
  sseDataEvent,
} from "./durable/protocol.js";
import { type FollowEvent, type FollowOptions, follow } from "./follow.js";
import type { StreamRequest } from "./request.js";
import type { ResponseSink } from "./sink.js";
import type { LogEntry, ResultReader } from "./store.js";

/** Clock, sleep and randomness for `serveDurable`; tests replace them, production uses the defaults. */
export interface DurableDeps {
  now?: () => number;
  sleep?: FollowOptions["sleep"];
  /** Source of cursor jitter, in [0, 1). */
  random?: () => number;
}

/**
 * The read side of the Durable Streams protocol (ElectricSQL `PROTOCOL.md`, JSON mode) over an
 * execution's log, so that `@durable-streams/client` can read a stream URL start to end.
 *
 * - `HEAD`: `Content-Type: application/json`, `Stream-Next-Offset` (the tail), `Stream-Closed: true`
 *   once the terminal record is stored; no body.
 * - Catch-up (`offset=-1|<offset>|now`, no `live`): a JSON array of the records after the offset, at
 *   most `pageSize` records and {@link MAX_CHUNK_BYTES}; `Stream-Next-Offset` = the offset of the last
 *   record returned; `Stream-Up-To-Date: true` when nothing more is readable now; `Stream-Closed:
 *   true` when the response ends with the terminal record, or the offset is already past it (EOF).
 * - `live=long-poll`: the same, but with nothing to return it waits up to `longPollMs` for a record,
 *   then answers `204` with `Stream-Next-Offset` and `Stream-Up-To-Date: true`; at the tail of a
 *   closed stream it answers `204` with `Stream-Closed: true` at once.
 * - `live=sse`: `text/event-stream`; each batch is a `data` event (a JSON array) followed by a
 *   `control` event (`streamNextOffset`, `streamCursor`, `upToDate`, `streamClosed`); both carry
 *   `id: <next offset>`, and `Last-Event-ID` (an `EventSource` reconnect) overrides `offset`. A
 *   comment line every `heartbeatMs` of silence; a final `control` event and a clean close before
 *   `stopAt`; after the terminal record, `streamClosed: true` and the connection ends.
 *
 * Live responses carry `Stream-Cursor` (interval cursors, see {@link responseCursor}) while the
 * stream is open. Offsets are the records' own `Offset`s: reading from a record's offset returns the
 * records after it.
 *
 * An execution with no record at all is `404 NotFound` for `HEAD` and catch-up reads (it may not
 * exist, or its first step has not written yet: the table cannot tell these apart, and Express
 * executions cannot be described). Live reads of such an execution wait instead, since the workflow
 * may simply not have written its first record yet; they end by the usual rules (long-poll timeout,
 * the reader's deadline, or a synthetic `timeout` record after `streamTimeoutMs`).
 *
 * The reader-side deadline spans requests: a live read measures `streamTimeoutMs` from the write
 * time of the last record the client has (the record at its offset), not from the request, so a
 * long-poll or SSE client of an execution that died without a terminal record (e.g. killed at the
 * Express 5-minute limit) gets a synthetic `timeout` record and `Stream-Closed` rather than polling
 * forever. Catch-up reads report only stored records.
 */
export async function serveDurable(
  req: StreamRequest,
  cfg: StreamerConfig,
  reader: ResultReader,
  sink: ResponseSink,
  stopAt: number,
  signal?: AbortSignal,
  deps: DurableDeps = {},
): Promise<{ delivered: number; reason: string }> {
  const ctx: Ctx = {
    req,
    cfg,
    reader,
    sink,
    stopAt,
    signal,
    now: deps.now ?? Date.now,
    sleep: deps.sleep,
    random: deps.random ?? Math.random,
  };
  if (req.method === "HEAD") return head(ctx);
  if (req.live === "long-poll") return longPoll(ctx);
  if (req.live === "sse") return sse(ctx);
  return catchUp(ctx);
}

interface Ctx {
  req: StreamRequest;
  cfg: StreamerConfig;
  reader: ResultReader;
  sink: ResponseSink;
  stopAt: number;
  signal: AbortSignal | undefined;
  now: () => number;
  sleep: FollowOptions["sleep"] | undefined;
  random: () => number;
}

type Outcome = { delivered: number; reason: string };

const BASE_HEADERS = { "x-content-type-options": "nosniff", "cross-origin-resource-policy": "cross-origin" };

function notFound(): StepstreamError {
  return new StepstreamError(
    "NotFound",
    "this execution has no records: it does not exist, or its first step has not written yet (retry, or read with live=long-poll or live=sse to wait)",
  );
}

function isTerminal(record: ResultRecord | null | undefined): boolean {
  return record ? isTerminalType(record.Type) : false;
}

/** Where a read starts, as "after this sequence number" (`-1` = the beginning). */
async function startSeq(ctx: Ctx, honourLastEventId: boolean): Promise<number> {
  const { req } = ctx;
  const position =
    honourLastEventId && req.lastEventId !== undefined
      ? parseReadPosition(req.lastEventId)
      : (req.position ?? { kind: "after" as const, seq: -1 });
  return position.kind === "now" ? ctx.reader.headSeq(req.executionArn) : position.seq;
}

/**
 * The log entry stored at `seq`, if any (one item read). Used for metadata only — is the stream
 * closed at this position, when was its last record written — never to deliver records, which
 * always go through `follow()`.
 */
async function entryAt(ctx: Ctx, seq: number): Promise<LogEntry | undefined> {
  if (seq < 0) return undefined;
  const [entry] = await ctx.reader.readAfter(ctx.req.executionArn, seq - 1, 1);
  return entry && entry.seq === seq ? entry : undefined;
}

/**
 * Whether the execution has any record, and whether the stream is closed at `seq` (the terminal
 * record is stored there). Called when a read found nothing after `seq`.
 */
async function tailAt(ctx: Ctx, seq: number): Promise<{ exists: boolean; closed: boolean }> {
  if (seq >= 0) {
    const [entry] = await ctx.reader.readAfter(ctx.req.executionArn, seq - 1, 1);
    if (entry) return { exists: true, closed: entry.seq === seq && isTerminal(entry.record) };
  }
  return { exists: (await ctx.reader.headSeq(ctx.req.executionArn)) >= 0, closed: false };
}

function followOptions(ctx: Ctx, afterSeq: number, extra: Partial<FollowOptions>): FollowOptions {
  const { cfg } = ctx;
  return {
    reader: ctx.reader,
    executionArn: ctx.req.executionArn,
    afterSeq,
    pageSize: cfg.pageSize,
    pollIntervalMs: cfg.pollIntervalMs,
    maxPollIntervalMs: cfg.maxPollIntervalMs,
    finalResultField: cfg.finalResultField,
    stopAt: ctx.stopAt,
    idleTimeoutMs: cfg.streamTimeoutMs,
    now: ctx.now,
    ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...extra,
  };
}

/**
 * The reader-side deadline of a live read: `streamTimeoutMs` after the last record the client has
 * was written (or after the request starts, when that is unknown), as a duration from now.
 */
function idleBudget(
  ctx: Ctx,
  last: LogEntry | undefined,
): { idleTimeoutMs: number; since: number | undefined } {
  const timeout = ctx.cfg.streamTimeoutMs;
  const since = last?.record?.WrittenAt;
  if (since === undefined) return { idleTimeoutMs: timeout, since };
  return { idleTimeoutMs: Math.min(timeout, Math.max(1, since + timeout - ctx.now())), since };
}

/**
 * Replaces `follow()`'s synthetic timeout record by one whose message states the real silence
 * (measured from the last record's write time, not from this request).
 */
function restateTimeout(
  ctx: Ctx,
  record: ResultRecord,
  afterSeq: number,
  since: number | undefined,
): ResultRecord {
  if (record.Synthetic !== true || since === undefined) return record;
  return syntheticTimeout(
    ctx.req.executionArn,
    afterSeq,
    Math.max(ctx.cfg.streamTimeoutMs, ctx.now() - since),
    { finalResultField: ctx.cfg.finalResultField },
  );
}

/** A bounded JSON-mode body being filled from `follow()` events. */
class Chunk {
  readonly jsons: string[] = [];
  private bytes = 0;
  /** Set when a record was left out for lack of room: more is readable now. */
  full = false;
  /** Set once the terminal record is in the chunk. */
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

/**
 * Fills `chunk` with what is readable now after `chunk.afterSeq` (a catch-up `follow()`); returns
 * whether the read reached the current end of the log (`Stream-Up-To-Date`).
 */
async function fillChunk(ctx: Ctx, chunk: Chunk): Promise<boolean> {
  if (chunk.closed || chunk.full) return chunk.closed;
  let upToDate = false;
  for await (const ev of follow(followOptions(ctx, chunk.afterSeq, { live: false }))) {
    if (ev.kind === "records") {
      if (!chunk.add(ev.records, ev.afterSeq)) break;
    } else if (ev.kind === "end") {
      chunk.afterSeq = Math.max(chunk.afterSeq, ev.afterSeq);
      upToDate = ev.reason === "caught-up" || ev.reason === "terminal";
    }
  }
  return upToDate && !chunk.full;
}

function newChunk(ctx: Ctx, afterSeq: number): Chunk {
  return new Chunk(afterSeq, ctx.cfg.pageSize, MAX_CHUNK_BYTES);
}

/** Sends a `200` JSON-mode response for a chunk read from `startSeq`. */
async function sendChunk(ctx: Ctx, startSeq: number, chunk: Chunk, upToDate: boolean): Promise<void> {
  const next = offsetAfter(chunk.afterSeq);
  const closed = chunk.closed;
  const headers: Record<string, string> = {
    [HEADER.contentType]: JSON_CONTENT_TYPE,
    ...BASE_HEADERS,
    [HEADER.nextOffset]: next,
    [HEADER.etag]: entityTag(offsetAfter(startSeq), next, closed),
    [HEADER.cacheControl]: closed || !upToDate ? CACHE_IMMUTABLE : CACHE_NONE,
  };
  if (upToDate || closed) headers[HEADER.upToDate] = "true";
  // The cursor is required on live responses and optional on catch-up ones; omitted once closed.
  if (closed) headers[HEADER.closed] = "true";
  else headers[HEADER.cursor] = responseCursor(ctx.req.cursor, ctx.now(), ctx.random);
  ctx.sink.open(200, headers);
  await ctx.sink.write(jsonArrayBody(chunk.jsons));
  await ctx.sink.end();
}

/** `HEAD`: the tail offset and whether the stream is closed. */
async function head(ctx: Ctx): Promise<Outcome> {
  const headSeq = await ctx.reader.headSeq(ctx.req.executionArn);
  if (headSeq < 0) throw notFound();
  const closed = isTerminal((await entryAt(ctx, headSeq))?.record);
  const headers: Record<string, string> = {
    [HEADER.contentType]: JSON_CONTENT_TYPE,
    ...BASE_HEADERS,
    [HEADER.nextOffset]: offsetAfter(headSeq),
    [HEADER.cacheControl]: CACHE_NONE,
  };
  if (closed) headers[HEADER.closed] = "true";
  ctx.sink.open(200, headers);
  await ctx.sink.end();
  return { delivered: 0, reason: "head" };
}

/** Catch-up read: what is there now, as one bounded JSON array. */
async function catchUp(ctx: Ctx): Promise<Outcome> {
  const { req } = ctx;
  if (req.position?.kind === "now") {
    // offset=now: no records, the tail offset, up to date; closed if the tail is the terminal record.
    const headSeq = await ctx.reader.headSeq(req.executionArn);
    if (headSeq < 0) throw notFound();
    const closed = isTerminal((await entryAt(ctx, headSeq))?.record);
    const headers: Record<string, string> = {
      [HEADER.contentType]: JSON_CONTENT_TYPE,
      ...BASE_HEADERS,
      [HEADER.nextOffset]: offsetAfter(headSeq),
      [HEADER.upToDate]: "true",
      [HEADER.cacheControl]: CACHE_NONE,
    };
    if (closed) headers[HEADER.closed] = "true";
    else headers[HEADER.cursor] = responseCursor(req.cursor, ctx.now(), ctx.random);
    ctx.sink.open(200, headers);
    await ctx.sink.write("[]");
    await ctx.sink.end();
    return { delivered: 0, reason: closed ? "closed" : "caught-up" };
  }
  const from = req.position?.seq ?? -1;
  const chunk = newChunk(ctx, from);
  const upToDate = await fillChunk(ctx, chunk);
  if (chunk.jsons.length === 0 && chunk.afterSeq === from) {
    const tail = await tailAt(ctx, from);
    if (!tail.exists) throw notFound();
    chunk.closed = tail.closed;
  }
  await sendChunk(ctx, from, chunk, upToDate);
  return {
    delivered: chunk.jsons.length,
    reason: chunk.closed ? "closed" : upToDate ? "caught-up" : "chunk",
  };
}

/** `204 No Content` of a long-poll: nothing new; the tail offset, and closure when closed. */
async function sendNoContent(ctx: Ctx, afterSeq: number, closed: boolean): Promise<void> {
  const headers: Record<string, string> = {
    [HEADER.contentType]: JSON_CONTENT_TYPE,
    ...BASE_HEADERS,
    [HEADER.nextOffset]: offsetAfter(afterSeq),
    [HEADER.upToDate]: "true",
    [HEADER.cacheControl]: CACHE_NONE,
  };
  if (closed) headers[HEADER.closed] = "true";
  else headers[HEADER.cursor] = responseCursor(ctx.req.cursor, ctx.now(), ctx.random);
  ctx.sink.open(204, headers);
  await ctx.sink.end();
}

/** `live=long-poll`: records after the offset, waiting up to `longPollMs` for the first one. */
async function longPoll(ctx: Ctx): Promise<Outcome> {
  const from = await startSeq(ctx, false);
  const last = await entryAt(ctx, from);
  if (isTerminal(last?.record)) {
    // At the tail of a closed stream: answer EOF at once, never wait.
    await sendNoContent(ctx, from, true);
    return { delivered: 0, reason: "closed" };
  }
  const { idleTimeoutMs, since } = idleBudget(ctx, last);
  let first: Extract<FollowEvent, { kind: "records" }> | undefined;
  let reason = "caught-up";
  for await (const ev of follow(
    followOptions(ctx, from, { live: true, waitLimitMs: ctx.cfg.longPollMs, idleTimeoutMs }),
  )) {
    if (ev.kind === "records") {
      first = ev;
      break;
    }
    if (ev.kind === "end") reason = ev.reason;
  }
  if (!first) {
    await sendNoContent(ctx, from, false);
    return { delivered: 0, reason };
  }
  const arrived = first;
  const chunk = newChunk(ctx, from);
  chunk.add(
    arrived.records.map((r) => restateTimeout(ctx, r, arrived.afterSeq, since)),
    arrived.afterSeq,
  );
  // Take whatever else is readable now, so that Stream-Up-To-Date is exact.
  const upToDate = await fillChunk(ctx, chunk);
  await sendChunk(ctx, from, chunk, upToDate);
  return { delivered: chunk.jsons.length, reason: chunk.closed ? "closed" : "records" };
}

/** `live=sse`: a Server-Sent Events stream of data and control events until the terminal record or `stopAt`. */
async function sse(ctx: Ctx): Promise<Outcome> {
  const from = await startSeq(ctx, true);
  const last = await entryAt(ctx, from);
  ctx.sink.open(200, {
    [HEADER.contentType]: SSE_CONTENT_TYPE,
    ...BASE_HEADERS,
    [HEADER.cacheControl]: CACHE_NONE,
  });
  let cursor = Number(responseCursor(ctx.req.cursor, ctx.now(), ctx.random));
  const currentCursor = () => {
    cursor = Math.max(cursor, cursorInterval(ctx.now()));
    return String(cursor);
  };
  let lastWrite = ctx.now();
  const write = async (text: string) => {
    await ctx.sink.write(text);
    lastWrite = ctx.now();
  };

  if (isTerminal(last?.record)) {
    await write(sseControlEvent({ streamNextOffset: offsetAfter(from), streamClosed: true, upToDate: true }));
    await ctx.sink.end();
    return { delivered: 0, reason: "closed" };
  }

  const { idleTimeoutMs, since } = idleBudget(ctx, last);
  let afterSeq = from;
  let upToDateSent = false;
  let delivered = 0;
  let reason = "deadline";
  for await (const ev of follow(followOptions(ctx, from, { live: true, idleTimeoutMs }))) {
    if (ev.kind === "records") {
      afterSeq = ev.afterSeq;
      // The silence before a synthetic timeout began at `since` only if this connection delivered nothing.
      const records = ev.records.map((r) =>
        restateTimeout(ctx, r, ev.afterSeq, delivered === 0 ? since : undefined),
      );
      const next = offsetAfter(afterSeq);
      const closed = records.some((r) => isTerminalType(r.Type));
      const control: SseControl = closed
        ? { streamNextOffset: next, streamClosed: true, upToDate: true }
        : { streamNextOffset: next, streamCursor: currentCursor() };
      await write(sseDataEvent(records.map(recordJson), next) + sseControlEvent(control));
      delivered += records.length;
      upToDateSent = false;
    } else if (ev.kind === "idle") {
      afterSeq = ev.afterSeq;
      if (!upToDateSent) {
        // Caught up with everything readable now (also the first event of a reader at the tail).
        await write(
          sseControlEvent({
            streamNextOffset: offsetAfter(afterSeq),
            streamCursor: currentCursor(),
            upToDate: true,
          }),
        );
        upToDateSent = true;
      } else if (ctx.now() - lastWrite >= ctx.cfg.heartbeatMs) {
        await write(SSE_HEARTBEAT);
      }
    } else {
      reason = ev.reason;
      afterSeq = ev.afterSeq;
    }
  }
  if (reason === "deadline") {
    // A clean close before the Lambda's deadline: restate where to reconnect from.
    const control: SseControl = { streamNextOffset: offsetAfter(afterSeq), streamCursor: currentCursor() };
    if (upToDateSent) control.upToDate = true;
    await write(sseControlEvent(control));
  }
  await ctx.sink.end();
  return { delivered, reason };
}
