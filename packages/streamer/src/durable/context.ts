import { parseReadPosition } from "@stepstream/results-schema";
import type { StreamerConfig } from "../config.js";
import type { FollowOptions } from "../follow.js";
import type { StreamRequest } from "../request.js";
import type { ResponseSink } from "../sink.js";
import { deadlineOptions, type StreamState } from "../state.js";
import type { ResultReader } from "../store.js";
import { responseCursor } from "./protocol.js";

/** Clock, sleep and randomness for `serveDurable`; tests replace them, production uses the defaults. */
export interface DurableDeps {
  now?: () => number;
  sleep?: FollowOptions["sleep"];
  /** Source of cursor jitter, in [0, 1). */
  random?: () => number;
}

/** One Durable Streams read: the request, where it goes, and the stream's state when it began. */
export interface Ctx {
  req: StreamRequest;
  cfg: StreamerConfig;
  reader: ResultReader;
  sink: ResponseSink;
  stopAt: number;
  signal: AbortSignal | undefined;
  now: () => number;
  sleep: FollowOptions["sleep"] | undefined;
  random: () => number;
  state: StreamState;
}

export type Outcome = { delivered: number; reason: string };

/** Headers on every Durable Streams response (§12.7). */
export const BASE_HEADERS = {
  "x-content-type-options": "nosniff",
  "cross-origin-resource-policy": "cross-origin",
} as const;

/** Sequence number of the log's last slot, or -1. */
export function tailSeq(ctx: Ctx): number {
  return ctx.state.head?.seq ?? -1;
}

/** Whether a reader positioned after `seq` is at (or past) the end of a closed stream: EOF. */
export function atClosedTail(ctx: Ctx, seq: number): boolean {
  return ctx.state.closed && seq >= tailSeq(ctx);
}

/** Where a read starts, as "after this sequence number" (`-1` = the beginning; `now` = the tail). */
export function startSeq(ctx: Ctx, honourLastEventId: boolean): number {
  const { req } = ctx;
  const position =
    honourLastEventId && req.lastEventId !== undefined
      ? parseReadPosition(req.lastEventId)
      : (req.position ?? { kind: "after" as const, seq: -1 });
  return position.kind === "now" ? tailSeq(ctx) : position.seq;
}

/** `follow()` options for this read; the no-terminal deadline is the same in every mode. */
export function followOptions(ctx: Ctx, afterSeq: number, extra: Partial<FollowOptions>): FollowOptions {
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
    now: ctx.now,
    ...deadlineOptions(cfg, ctx.state),
    ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...extra,
  };
}

/** The `Stream-Cursor` of a live response (§10.1). */
export function cursorFor(ctx: Ctx): string {
  return responseCursor(ctx.req.cursor, ctx.now(), ctx.random);
}
