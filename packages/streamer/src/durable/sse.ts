import { isTerminalType, offsetAfter } from "@stepstream/results-schema";
import { follow } from "../follow.js";
import { notFound } from "../state.js";
import {
  atClosedTail,
  BASE_HEADERS,
  type Ctx,
  followOptions,
  type Outcome,
  startSeq,
  tailSeq,
} from "./context.js";
import {
  CACHE_SSE,
  cursorInterval,
  HEADER,
  recordJson,
  responseCursor,
  SSE_CONTENT_TYPE,
  SSE_HEARTBEAT,
  type SseControl,
  sseControlEvent,
  sseDataEvent,
} from "./protocol.js";

/**
 * `live=sse` (§5.8): a Server-Sent Events stream of `data` and `control` events until the terminal
 * record, or until the connection's bound (`maxConnectionMs`, §10.2) or the Lambda's deadline, when
 * a last `control` event says where to reconnect from. The `control` event after a batch that
 * reaches the tail carries `upToDate: true`; after the terminal record, `streamClosed: true`, and
 * the connection ends. `Last-Event-ID` (an `EventSource` reconnect) overrides `offset`.
 */
export async function sse(ctx: Ctx): Promise<Outcome> {
  if (!ctx.state.exists) throw notFound();
  const from = startSeq(ctx, true);
  ctx.sink.open(200, {
    [HEADER.contentType]: SSE_CONTENT_TYPE,
    ...BASE_HEADERS,
    [HEADER.cacheControl]: CACHE_SSE,
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
  const closedControl = (afterSeq: number): SseControl => ({
    streamNextOffset: offsetAfter(afterSeq),
    streamClosed: true,
    upToDate: true,
  });

  if (atClosedTail(ctx, from)) {
    await write(sseControlEvent(closedControl(tailSeq(ctx))));
    await ctx.sink.end();
    return { delivered: 0, reason: "closed" };
  }

  const stopAt = Math.min(ctx.stopAt, ctx.now() + ctx.cfg.maxConnectionMs);
  let afterSeq = from;
  let upToDateSent = false;
  let closedSent = false;
  let delivered = 0;
  let reason = "deadline";
  for await (const ev of follow(followOptions(ctx, from, { live: true, stopAt }))) {
    if (ev.kind === "records") {
      afterSeq = ev.afterSeq;
      const next = offsetAfter(afterSeq);
      const closed = ev.records.some((r) => isTerminalType(r.Type));
      const control: SseControl = closed
        ? closedControl(afterSeq)
        : {
            streamNextOffset: next,
            streamCursor: currentCursor(),
            ...(ev.upToDate ? { upToDate: true } : {}),
          };
      await write(sseDataEvent(ev.records.map(recordJson), next) + sseControlEvent(control));
      closedSent = closed;
      delivered += ev.records.length;
      upToDateSent = ev.upToDate;
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
  if (reason === "terminal" && !closedSent) {
    // Reached an expired terminal record: nothing to deliver, but the stream is closed (§4).
    await write(sseControlEvent(closedControl(afterSeq)));
  }
  if (reason === "deadline") {
    // A clean close (connection bound or Lambda deadline): restate where to reconnect from.
    const control: SseControl = { streamNextOffset: offsetAfter(afterSeq), streamCursor: currentCursor() };
    if (upToDateSent) control.upToDate = true;
    await write(sseControlEvent(control));
  }
  await ctx.sink.end();
  return { delivered, reason };
}
