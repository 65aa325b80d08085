import dc from "node:diagnostics_channel";
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { encodeOffset, TABLE_SCHEMA } from "@stepstream/results-schema";
import type { CapacityLedger } from "./capacity.js";

/** The user-agent mark the bench's own DynamoDB clients carry: `stepstream-bench/<tag>`. */
export const TAG_PREFIX = "stepstream-bench/";
/** Requests without a bench mark come from the stack itself: the streamer Lambda, i.e. our reader. */
export const UNTAGGED = "ours";

/** Epoch milliseconds with sub-millisecond precision, comparable across processes of one machine. */
export const epochNow = () => performance.timeOrigin + performance.now();

/** Who sent a request, from its user agent (`stepstream-bench/<tag>` or {@link UNTAGGED}). */
export function tagOf(headers: Record<string, string | string[] | undefined>): string {
  for (const h of ["x-amz-user-agent", "user-agent"]) {
    const v = headers[h];
    const s = Array.isArray(v) ? v.join(" ") : (v ?? "");
    const i = s.indexOf(TAG_PREFIX);
    if (i >= 0) return (/^[a-z0-9-]+/.exec(s.slice(i + TAG_PREFIX.length))?.[0] ?? UNTAGGED) || UNTAGGED;
  }
  return UNTAGGED;
}

type Item = Record<string, { S?: string; N?: string }>;

/**
 * Watches every DynamoDB request that reaches an HTTP server in this process (the emulator's front
 * door) without changing it: the request body and the response body are copied as they pass, and the
 * ledger accounts each exchange when the response ends. Turn the ledger on and off with `enabled`.
 *
 * Whatever `enabled` says, each record a successful `PutItem` or `TransactWriteItems` wrote is timed as
 * its response leaves the door — the moment DynamoDB acknowledged the write — into `acks` (`<executionArn>|<offset>` → epoch ms).
 * With accounting on, it also notes, for each record, when the first of our streamer's Queries that
 * returned it arrived (`q|<executionArn>|<offset>`) and when its answer left (`r|…`).
 */
export function watchFrontDoor(
  ledger: CapacityLedger,
  acks: Map<string, number>,
): { enabled: boolean; failures: number } {
  const state = { enabled: true, failures: 0 };
  dc.subscribe("http.server.request.start", (message) => {
    const { request, response } = message as { request: IncomingMessage; response: ServerResponse };
    const target = request.headers["x-amz-target"];
    if (typeof target !== "string" || !target.startsWith("DynamoDB_")) return;
    const op = target.split(".")[1] ?? "unknown";
    const account = state.enabled;
    if (!account && op !== "PutItem" && op !== "TransactWriteItems") return;
    const tag = tagOf(request.headers);
    const arrivedAt = epochNow();
    const inChunks: Buffer[] = [];
    request.on("data", (c: Buffer) => inChunks.push(c));
    const outChunks: Buffer[] = [];
    const write = response.write;
    const end = response.end;
    const keep = (chunk: unknown) => {
      if (typeof chunk === "string") outChunks.push(Buffer.from(chunk));
      else if (chunk instanceof Uint8Array) outChunks.push(Buffer.from(chunk));
    };
    if (account) {
      response.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
        keep(chunk);
        return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
      } as typeof response.write;
    }
    response.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      const at = epochNow();
      if (account && typeof chunk !== "function") keep(chunk);
      try {
        const req = inChunks.length ? JSON.parse(Buffer.concat(inChunks).toString("utf8")) : {};
        if (this.statusCode === 200 && (op === "PutItem" || op === "TransactWriteItems")) {
          // The record items a write put (a transaction's key items are not records).
          const items =
            op === "PutItem"
              ? [(req as { Item?: Item }).Item]
              : ((req as { TransactItems?: { Put?: { Item?: Item } }[] }).TransactItems ?? []).map(
                  (a) => a.Put?.Item,
                );
          for (const item of items) {
            const arn = item?.[TABLE_SCHEMA.partitionKey]?.S;
            const seq = Number(item?.[TABLE_SCHEMA.sortKey]?.N);
            if (arn && !arn.startsWith(TABLE_SCHEMA.keyItemPrefix) && Number.isSafeInteger(seq) && seq >= 0)
              acks.set(`${arn}|${encodeOffset(seq)}`, at);
          }
        }
        if (account) {
          const out = outChunks.length ? Buffer.concat(outChunks).toString("utf8") : "";
          const res = out.startsWith("{") ? JSON.parse(out) : {};
          ledger.observe(op, tag, this.statusCode, req, res);
          if (op === "Query" && tag === UNTAGGED && this.statusCode === 200) {
            // The first of our streamer's Queries that returned each record: when it reached the
            // emulator and when its answer left (`q|…`, `r|…` beside the write's acknowledgement).
            for (const item of (res as { Items?: Item[] }).Items ?? []) {
              const arn = item[TABLE_SCHEMA.partitionKey]?.S;
              const seq = Number(item[TABLE_SCHEMA.sortKey]?.N);
              if (!arn || !Number.isSafeInteger(seq)) continue;
              const key = `${arn}|${encodeOffset(seq)}`;
              if (acks.has(`q|${key}`)) continue;
              acks.set(`q|${key}`, arrivedAt);
              acks.set(`r|${key}`, at);
            }
          }
        }
      } catch {
        state.failures++;
      }
      return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as typeof response.end;
  });
  return state;
}
