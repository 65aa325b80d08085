import { offsetAfter } from "@stepstream/results-schema";
import { notFound } from "../state.js";
import { BASE_HEADERS, type Ctx, type Outcome, tailSeq } from "./context.js";
import { CACHE_NONE, HEADER, JSON_CONTENT_TYPE } from "./protocol.js";

/**
 * `HEAD` (§5.5): the tail offset and whether the stream is closed; no body. A just-started
 * execution is an empty open stream; closure survives the expiry of the terminal record (§4).
 */
export async function head(ctx: Ctx): Promise<Outcome> {
  if (!ctx.state.exists) throw notFound();
  const headers: Record<string, string> = {
    [HEADER.contentType]: JSON_CONTENT_TYPE,
    ...BASE_HEADERS,
    [HEADER.nextOffset]: offsetAfter(tailSeq(ctx)),
    [HEADER.cacheControl]: CACHE_NONE,
  };
  if (ctx.state.closed) headers[HEADER.closed] = "true";
  ctx.sink.open(200, headers);
  await ctx.sink.end();
  return { delivered: 0, reason: "head" };
}
