import { StepstreamError } from "@stepstream/results-schema";
import type { StreamerConfig } from "./config.js";
import type { StreamRequest } from "./request.js";
import type { ResponseSink } from "./sink.js";
import type { ResultReader } from "./store.js";

// PLACEHOLDER while the Durable Streams read modes are written (issue 3).
export async function serveDurable(
  _req: StreamRequest,
  _cfg: StreamerConfig,
  _reader: ResultReader,
  _sink: ResponseSink,
  _stopAt: number,
  _signal?: AbortSignal,
): Promise<{ delivered: number; reason: string }> {
  throw new StepstreamError("BadRequest", "Durable Streams read modes are not available yet");
}
