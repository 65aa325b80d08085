import { DEFAULT_FINAL_RESULT_FIELD } from "@stepstream/results-schema";
import * as z from "zod/mini";

/** An integer environment variable in [min, max], `dflt` when unset. */
const intVar = (min: number, max: number, dflt: number) =>
  z._default(z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max)), dflt);

const EnvSchema = z.object({
  TABLE_NAME: z.string().check(z.minLength(3), z.maxLength(255)),
  /** Only executions of this state machine may be streamed. */
  STATE_MACHINE_ARN: z
    .string()
    .check(z.regex(/^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/)),
  POLL_INTERVAL_MS: intVar(10, 10_000, 50),
  MAX_POLL_INTERVAL_MS: intVar(10, 30_000, 500),
  STREAM_TIMEOUT_SECONDS: intVar(1, 3600, 360),
  HEARTBEAT_SECONDS: intVar(1, 300, 15),
  LONG_POLL_SECONDS: intVar(1, 300, 20),
  PAGE_SIZE: intVar(1, 1000, 200),
  /** Stop this long before the Lambda's own deadline, so the stream ends cleanly. */
  DEADLINE_MARGIN_MS: intVar(100, 60_000, 2000),
  FINAL_RESULT_FIELD_NAME: z._default(
    z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/)),
    DEFAULT_FINAL_RESULT_FIELD,
  ),
  CORS_ALLOW_ORIGIN: z.optional(z.string().check(z.maxLength(2048))),
  /**
   * Longest connection of a resumable read (`live=jsonl`, `live=sse`): then the streamer ends it
   * cleanly and the client resumes from its offset. Lambda sends no event when a client goes away,
   * so this bounds what an abandoned reader costs. Durable Streams §10.2: close SSE about every 60 s.
   */
  MAX_CONNECTION_SECONDS: intVar(1, 900, 60),
  /**
   * Latest an execution can still write, counted from the start time its name carries: Express's
   * 5 minutes plus a margin for the last write to land. Past it, with no terminal record, readers end
   * with a `timeout` record; an execution with no record at all is then unknown (`404`).
   */
  MAX_EXECUTION_SECONDS: intVar(1, 3600, 330),
});

/** The streamer's configuration, from its environment. */
export interface StreamerConfig {
  tableName: string;
  stateMachineArn: string;
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  streamTimeoutMs: number;
  heartbeatMs: number;
  longPollMs: number;
  pageSize: number;
  deadlineMarginMs: number;
  finalResultField: string;
  maxConnectionMs: number;
  maxExecutionMs: number;
}

/** Parses and validates the environment once (at cold start); throws a readable error. */
export function loadStreamerConfig(env: NodeJS.ProcessEnv = process.env): StreamerConfig {
  const r = EnvSchema.safeParse(env);
  if (!r.success) {
    throw new Error(
      `invalid streamer configuration: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  const e = r.data;
  return {
    tableName: e.TABLE_NAME,
    stateMachineArn: e.STATE_MACHINE_ARN,
    pollIntervalMs: e.POLL_INTERVAL_MS,
    maxPollIntervalMs: Math.max(e.MAX_POLL_INTERVAL_MS, e.POLL_INTERVAL_MS),
    streamTimeoutMs: e.STREAM_TIMEOUT_SECONDS * 1000,
    heartbeatMs: e.HEARTBEAT_SECONDS * 1000,
    longPollMs: e.LONG_POLL_SECONDS * 1000,
    pageSize: e.PAGE_SIZE,
    deadlineMarginMs: e.DEADLINE_MARGIN_MS,
    finalResultField: e.FINAL_RESULT_FIELD_NAME,
    maxConnectionMs: e.MAX_CONNECTION_SECONDS * 1000,
    maxExecutionMs: e.MAX_EXECUTION_SECONDS * 1000,
  };
}
