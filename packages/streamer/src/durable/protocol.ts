import type { ResultRecord } from "@stepstream/results-schema";

/**
 * Wire details of the Durable Streams protocol (ElectricSQL, `PROTOCOL.md`) as the streamer speaks
 * it: header names, the JSON-mode body, SSE framing, cursors and entity tags. Pure functions only.
 */

/** Content type of an execution's stream: Durable Streams JSON mode (a JSON array of records). */
export const JSON_CONTENT_TYPE = "application/json";
/** Content type of `live=sse` responses. */
export const SSE_CONTENT_TYPE = "text/event-stream";

/** Response headers (lower case, as the Function URL sends them; HTTP header names are case-insensitive). */
export const HEADER = {
  nextOffset: "stream-next-offset",
  upToDate: "stream-up-to-date",
  closed: "stream-closed",
  cursor: "stream-cursor",
  etag: "etag",
  cacheControl: "cache-control",
  contentType: "content-type",
} as const;

/**
 * Largest catch-up or long-poll body, in bytes of JSON. The body is buffered because its headers
 * (`Stream-Next-Offset`, `Stream-Up-To-Date`, `Stream-Closed`) depend on where it ends; a reader
 * gets the rest with the next request. At least one record is always returned, whatever its size.
 */
export const MAX_CHUNK_BYTES = 1024 * 1024;

/** `Cache-Control` of a response whose bytes can never change (it is not at the live tail, or the stream is closed). */
export const CACHE_IMMUTABLE = "private, max-age=60, stale-while-revalidate=300";
/** `Cache-Control` of a response that describes the current tail of an open stream (and of HEAD). */
export const CACHE_NONE = "no-store";
/**
 * `Cache-Control` of an SSE response. The conformance suite expects `no-cache` (it keeps proxies
 * from buffering the stream; PROTOCOL.md itself says nothing); `no-store` stays because the records
 * are private (§12.7).
 */
export const CACHE_SSE = "no-cache, no-store";

/** Epoch of the protocol's time-interval cursors (PROTOCOL.md, "Server-Generated Cursors"). */
export const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9, 0, 0, 0, 0);
/** Length of one cursor interval. */
export const CURSOR_INTERVAL_MS = 20_000;
const MAX_JITTER_SECONDS = 3600;

/** The current cursor interval number. */
export function cursorInterval(now: number): number {
  return Math.floor((now - CURSOR_EPOCH_MS) / CURSOR_INTERVAL_MS);
}

/**
 * The `Stream-Cursor` for a live response. It is the current interval number, unless the client
 * echoed a cursor at or past it; then it is the client's cursor plus 1–3600 s of random jitter (in
 * whole intervals, at least one), so cursors never go backwards and a CDN can never loop on a
 * cached response. A cursor that is not a decimal number is ignored.
 *
 * @example
 * ```ts
 * responseCursor(undefined, Date.UTC(2024, 9, 9, 0, 1)); // "3"
 * ```
 */
export function responseCursor(
  clientCursor: string | undefined,
  now: number,
  random: () => number = Math.random,
): string {
  const current = cursorInterval(now);
  const client =
    clientCursor !== undefined && /^\d{1,15}$/.test(clientCursor) ? Number(clientCursor) : undefined;
  if (client === undefined || client < current) return String(current);
  const jitterSeconds = 1 + Math.floor(random() * MAX_JITTER_SECONDS);
  return String(client + Math.max(1, Math.ceil((jitterSeconds * 1000) / CURSOR_INTERVAL_MS)));
}

/**
 * A record as one line of JSON. U+2028 and U+2029 are escaped (valid JSON either way) so that no
 * line-oriented reader of an SSE stream can split a record.
 */
export function recordJson(record: ResultRecord): string {
  return JSON.stringify(record).replace(/[\u2028\u2029]/g, (c) => (c === "\u2028" ? "\\u2028" : "\\u2029"));
}

/** A JSON-mode body: the records as one JSON array. */
export function jsonArrayBody(recordJsons: readonly string[]): string {
  return `[${recordJsons.join(",")}]`;
}

/**
 * The strong entity tag of a read: where it started, where it ended, and `:c` once the stream is
 * closed (the tag must change when closure does, or a `304` would hide it).
 */
export function entityTag(startOffset: string, nextOffset: string, closed: boolean): string {
  return `"${startOffset}:${nextOffset}${closed ? ":c" : ""}"`;
}

/**
 * Whether an `If-None-Match` header names `etag` (RFC 9110 §13.1.2: a list of tags, or `*`; the
 * comparison is weak, so `W/"x"` matches `"x"`).
 */
export function matchesEntityTag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const want = etag.replace(/^W\//, "");
  return ifNoneMatch
    .split(",")
    .map((t) => t.trim().replace(/^W\//, ""))
    .some((t) => t === "*" || t === want);
}

/** What an SSE `control` event carries (field names as the protocol spells them). */
export interface SseControl {
  streamNextOffset: string;
  streamCursor?: string;
  upToDate?: true;
  streamClosed?: true;
}

/**
 * An SSE `data` event: a JSON array over several `data:` lines, one record per line, with `id:` set
 * to the offset after the batch so that an `EventSource` reconnect (`Last-Event-ID`) resumes there.
 */
export function sseDataEvent(recordJsons: readonly string[], id: string): string {
  const lines = ["event: data", "data: ["];
  recordJsons.forEach((json, i) => {
    lines.push(`data: ${json}${i < recordJsons.length - 1 ? "," : ""}`);
  });
  lines.push("data: ]", `id: ${id}`, "", "");
  return lines.join("\n");
}

/**
 * An SSE `control` event, with `id:` set to its `streamNextOffset`. The `id:` line comes after
 * `data:` (field order inside an event does not matter to SSE), because the conformance suite
 * parses control events as `event: control` directly followed by `data:{` (no space after the colon;
 * SSE strips one optional space, so both spellings carry the same data).
 */
export function sseControlEvent(control: SseControl): string {
  return `event: control\ndata:${JSON.stringify(control)}\nid: ${control.streamNextOffset}\n\n`;
}

/** An SSE comment: ignored by every SSE parser, it keeps idle connections open through proxies. */
export const SSE_HEARTBEAT = ": keep-alive\n\n";
