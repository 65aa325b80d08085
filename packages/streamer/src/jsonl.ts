import { offsetAfter } from "@stepstream/results-schema";
import type { StreamerConfig } from "./config.js";
import { follow } from "./follow.js";
import type { StreamRequest } from "./request.js";
import type { ResponseSink } from "./sink.js";
import { deadlineOptions, notFound, streamState } from "./state.js";
import type { ResultReader } from "./store.js";

export const JSONL_CONTENT_TYPE = "application/x-ndjson; charset=utf-8";

/**
 * JSON Lines: one record per line, written as soon as read, until the terminal record.
 *
 * Without `offset` this is the AWS sample's stream (from the beginning, no heartbeats, one
 * connection for the whole run, up to the Lambda's deadline: sample clients do not resume). With
 * `live=jsonl` it starts after `offset` (`-1`, `now`, or a record's `Offset`), writes an empty line
 * every `heartbeatMs` of silence so proxies keep the connection, and ends cleanly after
 * `maxConnectionMs` (Lambda sends no event when a client goes away: the bound is what an abandoned
 * reader costs); a client resumes with `offset=<last Offset>&live=jsonl`.
 *
 * A read at or past the end of a closed stream ends at once, with `Stream-Closed: true` and the
 * terminal record again (its offset is the reader's own, so a client that has it knows how the run
 * ended without waiting). An unknown execution is `404`; a just-started one is an empty stream.
 */
export async function serveJsonl(
  req: StreamRequest,
  cfg: StreamerConfig,
  reader: ResultReader,
  sink: ResponseSink,
  stopAt: number,
  signal?: AbortSignal,
  now: () => number = Date.now,
): Promise<{ delivered: number; reason: string }> {
  const state = await streamState(reader, cfg, req.executionArn, now());
  if (!state.exists) throw notFound();
  const position = req.position ?? { kind: "after", seq: -1 };
  const tail = state.head?.seq ?? -1;
  const requested = position.kind === "now" ? tail : position.seq;
  const atClosedTail = state.closed && requested >= tail;
  // At the end of a closed stream, read the terminal record once more: the status travels with it.
  const afterSeq = atClosedTail ? tail - 1 : requested;
  const headers: Record<string, string> = {
    "content-type": JSONL_CONTENT_TYPE,
    // Where this response starts: resolves `now` for a client that must resume before any record.
    "stream-next-offset": offsetAfter(atClosedTail ? tail : afterSeq),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  };
  if (atClosedTail) headers["stream-closed"] = "true";
  sink.open(200, headers);
  if (req.method === "HEAD") {
    await sink.end();
    return { delivered: 0, reason: "head" };
  }
  const resumable = req.live === "jsonl";
  const until = resumable ? Math.min(stopAt, now() + cfg.maxConnectionMs) : stopAt;
  let lastWrite = now();
  let delivered = 0;
  let reason = "deadline";
  for await (const ev of follow({
    reader,
    executionArn: req.executionArn,
    afterSeq,
    pageSize: cfg.pageSize,
    pollIntervalMs: cfg.pollIntervalMs,
    maxPollIntervalMs: cfg.maxPollIntervalMs,
    stopAt: until,
    now,
    ...deadlineOptions(cfg, state),
    finalResultField: cfg.finalResultField,
    ...(signal ? { signal } : {}),
  })) {
    if (ev.kind === "records") {
      await sink.write(ev.records.map((r) => `${JSON.stringify(r)}\n`).join(""));
      delivered += ev.records.length;
      lastWrite = now();
    } else if (ev.kind === "idle") {
      if (resumable && now() - lastWrite >= cfg.heartbeatMs) {
        await sink.write("\n");
        lastWrite = now();
      }
    } else {
      reason = ev.reason;
    }
  }
  await sink.end();
  return { delivered, reason: atClosedTail ? "closed" : reason };
}
