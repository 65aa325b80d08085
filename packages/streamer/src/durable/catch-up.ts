import { offsetAfter } from "@stepstream/results-schema";
import { notFound } from "../state.js";
import { fillChunk, newChunk, sendChunk } from "./chunk.js";
import { BASE_HEADERS, type Ctx, cursorFor, type Outcome, tailSeq } from "./context.js";
import { CACHE_NONE, HEADER, JSON_CONTENT_TYPE } from "./protocol.js";

/**
 * Catch-up read (§5.6): what is there now after the offset, as one bounded JSON array, with
 * `Stream-Up-To-Date` when it reaches the tail and `Stream-Closed` when that tail is the terminal
 * record. `offset=now` (§8): `[]`, the tail offset, no `ETag`.
 */
export async function catchUp(ctx: Ctx): Promise<Outcome> {
  const { req, state } = ctx;
  if (!state.exists) throw notFound();
  if (req.position?.kind === "now") {
    const headers: Record<string, string> = {
      [HEADER.contentType]: JSON_CONTENT_TYPE,
      ...BASE_HEADERS,
      [HEADER.nextOffset]: offsetAfter(tailSeq(ctx)),
      [HEADER.upToDate]: "true",
      [HEADER.cacheControl]: CACHE_NONE,
    };
    if (state.closed) headers[HEADER.closed] = "true";
    else headers[HEADER.cursor] = cursorFor(ctx);
    ctx.sink.open(200, headers);
    await ctx.sink.write("[]");
    await ctx.sink.end();
    return { delivered: 0, reason: state.closed ? "closed" : "caught-up" };
  }
  const from = req.position?.seq ?? -1;
  const chunk = newChunk(ctx, from);
  const upToDate = await fillChunk(ctx, chunk);
  await sendChunk(ctx, from, chunk, upToDate);
  return {
    delivered: chunk.jsons.length,
    reason: chunk.closed ? "closed" : upToDate ? "caught-up" : "chunk",
  };
}
