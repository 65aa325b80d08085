import { offsetAfter } from "@stepstream/results-schema";
import { type FollowEvent, follow } from "../follow.js";
import { notFound } from "../state.js";
import { fillChunk, newChunk, sendChunk } from "./chunk.js";
import {
  atClosedTail,
  BASE_HEADERS,
  type Ctx,
  cursorFor,
  followOptions,
  type Outcome,
  startSeq,
  tailSeq,
} from "./context.js";
import { CACHE_NONE, HEADER, JSON_CONTENT_TYPE } from "./protocol.js";

/** `204 No Content` of a long-poll: nothing new; the tail offset, and closure when closed. */
async function sendNoContent(ctx: Ctx, afterSeq: number, closed: boolean): Promise<void> {
  const headers: Record<string, string> = {
    [HEADER.contentType]: JSON_CONTENT_TYPE,
    ...BASE_HEADERS,
    [HEADER.nextOffset]: offsetAfter(afterSeq),
    [HEADER.upToDate]: "true",
    [HEADER.cacheControl]: CACHE_NONE,
  };
  if (closed) headers[HEADER.closed] = "true";
  else headers[HEADER.cursor] = cursorFor(ctx);
  ctx.sink.open(204, headers);
  await ctx.sink.end();
}

/**
 * `live=long-poll` (§5.7): records after the offset, waiting up to `longPollMs` for the first one;
 * `204` when none came. At the tail of a closed stream it answers `204` with `Stream-Closed` at once.
 * An execution that never ends gets a synthetic `timeout` record once the no-terminal deadline passes.
 */
export async function longPoll(ctx: Ctx): Promise<Outcome> {
  if (!ctx.state.exists) throw notFound();
  const from = startSeq(ctx, false);
  if (atClosedTail(ctx, from)) {
    await sendNoContent(ctx, tailSeq(ctx), true);
    return { delivered: 0, reason: "closed" };
  }
  let first: Extract<FollowEvent, { kind: "records" }> | undefined;
  let end: Extract<FollowEvent, { kind: "end" }> | undefined;
  for await (const ev of follow(followOptions(ctx, from, { live: true, waitLimitMs: ctx.cfg.longPollMs }))) {
    if (ev.kind === "records") {
      first = ev;
      break;
    }
    if (ev.kind === "end") end = ev;
  }
  if (!first) {
    const closed = end?.reason === "terminal"; // the terminal record had expired
    await sendNoContent(ctx, end?.afterSeq ?? from, closed);
    return { delivered: 0, reason: end?.reason ?? "caught-up" };
  }
  const chunk = newChunk(ctx, from);
  chunk.add(first.records, first.afterSeq);
  // Take whatever else is readable now, so that Stream-Up-To-Date is exact.
  const upToDate = await fillChunk(ctx, chunk);
  await sendChunk(ctx, from, chunk, upToDate);
  return { delivered: chunk.jsons.length, reason: chunk.closed ? "closed" : "records" };
}
