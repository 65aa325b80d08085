import {
  MAX_EXECUTION_ARN_LENGTH,
  parseExecutionArn,
  parseReadPosition,
  type ReadPosition,
  StepstreamError,
  stateMachineArnOf,
} from "@stepstream/results-schema";

/** Read modes of the stream URL. */
export type LiveMode = "jsonl" | "long-poll" | "sse";
export const LIVE_MODES: readonly LiveMode[] = ["jsonl", "long-poll", "sse"];

/** A validated stream request. */
export interface StreamRequest {
  method: "GET" | "HEAD";
  executionArn: string;
  /** `undefined` when the request has no `offset` parameter. */
  position: ReadPosition | undefined;
  rawOffset: string | undefined;
  live: LiveMode | undefined;
  /** Durable Streams `cursor` echo (opaque to us). */
  cursor: string | undefined;
  /** `Last-Event-ID` of an SSE reconnect. */
  lastEventId: string | undefined;
  /** `If-None-Match` of a repeat read (§10.1: a matching `ETag` is answered `304`). */
  ifNoneMatch: string | undefined;
}

/** The parts of a Lambda Function URL event (payload format 2.0) the streamer reads. */
export interface FunctionUrlEvent {
  rawPath?: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  requestContext?: { http?: { method?: string }; requestId?: string };
}

/** Longest query string accepted (an ARN plus offset and mode fit in well under 1 KiB). */
export const MAX_QUERY_LENGTH = 2048;
const KNOWN_PARAMS = new Set(["executionArn", "offset", "live", "cursor"]);

/**
 * Validates a Function URL request, or throws a `StepstreamError` (mapped to 4xx): method, query
 * size, parameters given at most once, the ARN well-formed and of this state machine, the offset and
 * the mode.
 */
export function parseStreamRequest(event: FunctionUrlEvent, stateMachineArn: string): StreamRequest {
  const method = (event.requestContext?.http?.method ?? "GET").toUpperCase();
  if (method !== "GET" && method !== "HEAD") {
    throw new StepstreamError(
      "MethodNotAllowed",
      `method ${method.slice(0, 16)} is not allowed; use GET or HEAD`,
    );
  }
  const path = event.rawPath ?? "/";
  if (path !== "/" && path !== "") throw new StepstreamError("NotFound", "no such path; the stream is at /");
  const raw = event.rawQueryString ?? "";
  if (raw.length > MAX_QUERY_LENGTH) {
    throw new StepstreamError("BadRequest", `query string is longer than ${MAX_QUERY_LENGTH} characters`);
  }
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(raw);
  } catch {
    throw new StepstreamError("BadRequest", "query string is malformed");
  }
  const seen = new Set<string>();
  for (const key of params.keys()) {
    if (KNOWN_PARAMS.has(key)) {
      if (seen.has(key)) throw new StepstreamError("BadRequest", `parameter ${key} is given more than once`);
      seen.add(key);
    }
  }
  const executionArn = params.get("executionArn");
  if (!executionArn)
    throw new StepstreamError("BadRequest", "executionArn is required (?executionArn=<url-encoded ARN>)");
  if (executionArn.length > MAX_EXECUTION_ARN_LENGTH) {
    throw new StepstreamError(
      "InvalidArn",
      `executionArn is longer than ${MAX_EXECUTION_ARN_LENGTH} characters`,
    );
  }
  const arn = parseExecutionArn(executionArn);
  // Only executions of this very state machine (partition, region, account, name) — and it is an
  // Express one, so a Standard execution ARN (`:execution:`) cannot be one of ours either. Refused
  // before the table is read, so a hostile ARN never touches another execution's data.
  if (arn.kind !== "express" || stateMachineArnOf(executionArn) !== stateMachineArn) {
    throw new StepstreamError("NotFound", "no such execution of this state machine");
  }
  const rawOffset = params.get("offset") ?? undefined;
  const position = rawOffset === undefined ? undefined : parseReadPosition(rawOffset);
  const rawLive = params.get("live") ?? undefined;
  if (rawLive !== undefined && !LIVE_MODES.includes(rawLive as LiveMode)) {
    throw new StepstreamError("BadRequest", `live must be one of ${LIVE_MODES.join(", ")}`);
  }
  // Durable Streams §5.7 / §5.8: `offset` MUST be given with live=long-poll and live=sse.
  if ((rawLive === "long-poll" || rawLive === "sse") && rawOffset === undefined) {
    throw new StepstreamError(
      "BadRequest",
      `offset is required with live=${rawLive} (-1 for the beginning, now for the tail, or the last Stream-Next-Offset)`,
    );
  }
  const headers = event.headers ?? {};
  const lastEventId = headers["last-event-id"];
  if (lastEventId !== undefined) {
    try {
      parseReadPosition(lastEventId);
    } catch {
      throw new StepstreamError(
        "InvalidOffset",
        "Last-Event-ID must be an offset this stream sent (16 digits, -000000000000001, -1 or now)",
      );
    }
  }
  const cursor = params.get("cursor") ?? undefined;
  if (cursor !== undefined && !/^[A-Za-z0-9_-]{0,64}$/.test(cursor)) {
    throw new StepstreamError("BadRequest", "cursor is malformed");
  }
  return {
    method: method as "GET" | "HEAD",
    executionArn,
    position,
    rawOffset,
    live: rawLive as LiveMode | undefined,
    cursor,
    lastEventId,
    ifNoneMatch: headers["if-none-match"],
  };
}
