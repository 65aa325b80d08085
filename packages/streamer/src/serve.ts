import { errorBody, httpStatusOf, StepstreamError } from "@stepstream/results-schema";
import type { StreamerConfig } from "./config.js";
import { serveDurable } from "./durable.js";
import { serveJsonl } from "./jsonl.js";
import { type FunctionUrlEvent, parseStreamRequest } from "./request.js";
import { ClientGoneError, type ResponseSink } from "./sink.js";
import type { ResultReader } from "./store.js";

/** Log fields the handler records for each request (never signatures or record content). */
export interface ServeOutcome {
  status: "ok" | "rejected" | "error";
  executionArn?: string;
  mode?: string;
  delivered?: number;
  reason?: string;
  errorCode?: string;
  error?: Error;
}

/**
 * Serves one stream request: validates it, then runs the read mode it asks for. Client errors are
 * answered `4xx` with `{"error":{"code","message"}}`; anything unexpected is `500` with a generic
 * message (details go to the log only).
 */
export async function serve(
  event: FunctionUrlEvent,
  cfg: StreamerConfig,
  reader: ResultReader,
  sink: ResponseSink,
  stopAt: number,
  signal?: AbortSignal,
): Promise<ServeOutcome> {
  let opened = false;
  const tracked: ResponseSink = {
    open(status, headers) {
      opened = true;
      sink.open(status, headers);
    },
    write: (c) => sink.write(c),
    end: () => sink.end(),
  };
  let executionArn: string | undefined;
  try {
    const req = parseStreamRequest(event, cfg.stateMachineArn);
    executionArn = req.executionArn;
    if (req.position === undefined && req.live === undefined && req.method === "GET") {
      const r = await serveJsonl(req, cfg, reader, tracked, stopAt, signal);
      return { status: "ok", executionArn, mode: "jsonl-default", ...r };
    }
    if (req.live === "jsonl") {
      const r = await serveJsonl(req, cfg, reader, tracked, stopAt, signal);
      return { status: "ok", executionArn, mode: "jsonl", ...r };
    }
    const r = await serveDurable(req, cfg, reader, tracked, stopAt, signal);
    return { status: "ok", executionArn, mode: req.live ?? "catch-up", ...r };
  } catch (err) {
    if (err instanceof ClientGoneError || (opened && signal?.aborted)) {
      return { status: "ok", ...(executionArn ? { executionArn } : {}), reason: "client-gone" };
    }
    const known = err instanceof StepstreamError ? err : undefined;
    const code = known ? known.code : "Internal";
    const message = known ? known.message : "internal error; see the streamer's log";
    if (!opened) {
      const status = known ? httpStatusOf(known.code) : 500;
      // Durable Streams §12.7: nosniff on every response, errors included.
      tracked.open(status, {
        "content-type": "application/json",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "cross-origin-resource-policy": "cross-origin",
      });
      await tracked.write(JSON.stringify(errorBody(code, message)));
    }
    await tracked.end();
    return {
      status: known ? "rejected" : "error",
      ...(executionArn ? { executionArn } : {}),
      errorCode: code,
      error: err as Error,
    };
  }
}
