import { offsetAfter } from "@stepstream/results-schema";
import type { StreamerConfig } from "./config.js";
import { follow } from "./follow.js";
import type { StreamRequest } from "./request.js";
import type { ResponseSink } from "./sink.js";
import type { ResultReader } from "./store.js";

export const JSONL_CONTENT_TYPE = "application/x-ndjson; charset=utf-8";

/**
 * JSON Lines: one record per line, written as soon as read, until the terminal record.
 *
 * Without `offset` this is the AWS sample's stream (from the beginning, no heartbeats). With
 * `live=jsonl` it starts after `offset` (`-1`, `now`, or a record's `Offset`) and writes an empty
 * line every `heartbeatMs` of silence so proxies keep the connection. Either ends cleanly before the
 * Lambda's deadline; a client resumes with `offset=<last Offset>&live=jsonl`.
 */
export async function serveJsonl(
  req: StreamRequest,
  cfg: StreamerConfig,
  reader: ResultReader,
  sink: ResponseSink,
  stopAt: number,
  signal?: AbortSignal,
): Promise<{ delivered: number; reason: string }> {
  const position = req.position ?? { kind: "after", seq: -1 };
  const afterSeq = position.kind === "now" ? await reader.headSeq(req.executionArn) : position.seq;
  sink.open(200, {
    "content-type": JSONL_CONTENT_TYPE,
    // Where this response starts: resolves `now` for a client that must resume before any record.
    "stream-next-offset": offsetAfter(afterSeq),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  if (req.method === "HEAD") {
    await sink.end();
    return { delivered: 0, reason: "head" };
  }
  const heartbeats = req.live === "jsonl";
  let lastWrite = Date.now();
  let delivered = 0;
  let reason = "deadline";
  for await (const ev of follow({
    reader,
    executionArn: req.executionArn,
    afterSeq,
    pageSize: cfg.pageSize,
    pollIntervalMs: cfg.pollIntervalMs,
    maxPollIntervalMs: cfg.maxPollIntervalMs,
    stopAt,
    idleTimeoutMs: cfg.streamTimeoutMs,
    finalResultField: cfg.finalResultField,
    ...(signal ? { signal } : {}),
  })) {
    if (ev.kind === "records") {
      await sink.write(ev.records.map((r) => `${JSON.stringify(r)}\n`).join(""));
      delivered += ev.records.length;
      lastWrite = Date.now();
    } else if (ev.kind === "idle") {
      if (heartbeats && Date.now() - lastWrite >= cfg.heartbeatMs) {
        await sink.write("\n");
        lastWrite = Date.now();
      }
    } else {
      reason = ev.reason;
    }
  }
  await sink.end();
  return { delivered, reason };
}
