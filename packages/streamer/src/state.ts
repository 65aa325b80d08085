import { StepstreamError, startTimeOfExecution } from "@stepstream/results-schema";
import type { StreamerConfig } from "./config.js";
import { headOf, type LogHead, type ResultReader } from "./store.js";

/** Clock skew tolerated between the start API's clock (the name's start time) and the streamer's. */
const START_SKEW_MS = 5 * 60 * 1000;

/**
 * What every read mode needs to know about an execution before it reads: whether the stream exists,
 * where its tail is, whether it is closed, and when a reader must stop waiting for its terminal record.
 */
export interface StreamState {
  /** The log's last slot (even expired), or `undefined` when the execution has written nothing. */
  head: LogHead | undefined;
  /** The terminal record is stored (expired or not): the stream is closed, for good. */
  closed: boolean;
  /** Start time carried by the execution's name (see `executionNameFor`), if any. */
  startedAt: number | undefined;
  /**
   * The stream exists: the execution has a record, or its name says it started less than
   * `maxExecutionMs` ago (just started, nothing written yet: an empty, open stream).
   */
  exists: boolean;
}

/** One Query (`Limit 1`, newest first): the state of an execution's stream now. */
export async function streamState(
  reader: ResultReader,
  cfg: StreamerConfig,
  executionArn: string,
  now: number,
): Promise<StreamState> {
  const head = await headOf(reader, executionArn);
  const start = startTimeOfExecution(executionArn);
  const startedAt = start !== undefined && start <= now + START_SKEW_MS ? start : undefined;
  const justStarted = startedAt !== undefined && now < startedAt + cfg.maxExecutionMs;
  return { head, closed: head?.terminal ?? false, startedAt, exists: head !== undefined || justStarted };
}

/** The `404` of an execution that is not a stream. */
export function notFound(): StepstreamError {
  return new StepstreamError(
    "NotFound",
    "no such execution: it has no records and was not started by this API in the last few minutes",
  );
}

/** `follow()` options that make every mode measure the no-terminal deadline the same way. */
export function deadlineOptions(
  cfg: StreamerConfig,
  state: StreamState,
): { idleTimeoutMs: number; lastWrittenAt?: number; endBy?: number } {
  const lastWrittenAt = state.head?.writtenAt ?? state.startedAt;
  return {
    idleTimeoutMs: cfg.streamTimeoutMs,
    ...(lastWrittenAt !== undefined ? { lastWrittenAt } : {}),
    ...(state.startedAt !== undefined ? { endBy: state.startedAt + cfg.maxExecutionMs } : {}),
  };
}
