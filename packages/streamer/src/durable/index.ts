import type { StreamerConfig } from "../config.js";
import type { StreamRequest } from "../request.js";
import type { ResponseSink } from "../sink.js";
import { streamState } from "../state.js";
import type { ResultReader } from "../store.js";
import { catchUp } from "./catch-up.js";
import type { Ctx, DurableDeps, Outcome } from "./context.js";
import { head } from "./head.js";
import { longPoll } from "./long-poll.js";
import { sse } from "./sse.js";

export type { DurableDeps } from "./context.js";

/**
 * The read side of the Durable Streams protocol (ElectricSQL `PROTOCOL.md`, JSON mode) over an
 * execution's log, so that `@durable-streams/client` can read a stream URL start to end. One module
 * per read mode: `head.ts` (§5.5), `catch-up.ts` (§5.6), `long-poll.ts` (§5.7), `sse.ts` (§5.8);
 * wire details in `protocol.ts`.
 *
 * Every mode first reads the stream's state (one Query, `Limit 1`): an execution with no record is
 * a stream only if its name says the start API started it in the last `maxExecutionMs` (an empty,
 * open stream); otherwise it is `404` in every mode. Closure is the terminal record being stored,
 * expired or not (§4: durable). Offsets are the records' own `Offset`s (reading from a record's
 * offset returns the records after it); the position before the first record is `BEGINNING_OFFSET`,
 * never `-1` or `now` (§8). Live reads end with a synthetic `timeout` record once the no-terminal
 * deadline passes: `streamTimeoutMs` after the last record was written (or the execution started),
 * and at most `maxExecutionMs` after the start time.
 */
export async function serveDurable(
  req: StreamRequest,
  cfg: StreamerConfig,
  reader: ResultReader,
  sink: ResponseSink,
  stopAt: number,
  signal?: AbortSignal,
  deps: DurableDeps = {},
): Promise<Outcome> {
  const now = deps.now ?? Date.now;
  const ctx: Ctx = {
    req,
    cfg,
    reader,
    sink,
    stopAt,
    signal,
    now,
    sleep: deps.sleep,
    random: deps.random ?? Math.random,
    state: await streamState(reader, cfg, req.executionArn, now()),
  };
  if (req.method === "HEAD") return head(ctx);
  if (req.live === "long-poll") return longPoll(ctx);
  if (req.live === "sse") return sse(ctx);
  return catchUp(ctx);
}
