import type { ResultRecord } from "@stepstream/results-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startStack } from "../src/index.js";
import { signedFetch, startRun } from "./support.js";

// The streamer on the local stack under Lambda's semantics (apps/local/src/lambda-runtime.ts):
// findings 1 (empty responses keep status and headers) and 2 (a client that goes away does not stop
// the invocation) of issue 11.
let stack: LocalStack;
beforeAll(async () => {
  stack = await startStack({
    memory: true,
    port: 0,
    outputsFile: null,
    stepWaitMs: 2000,
    streamer: { pollIntervalMs: 50, maxPollIntervalMs: 100, longPollSeconds: 1 },
  });
});
afterAll(async () => {
  await stack?.close();
});

const until = async (cond: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
};
const queries = () => stack.dynamoCounts.Query ?? 0;

describe("every response, empty or not, carries its status and headers", () => {
  it("HEAD (Durable Streams and JSON Lines) answers with its Stream-Next-Offset", async () => {
    const run = await startRun(stack, { count: 1 });
    await stack.idle();
    const arn = encodeURIComponent(run.executionArn);
    const durable = await signedFetch(stack, `${stack.streamUrl}?executionArn=${arn}`, { method: "HEAD" });
    expect(durable.status).toBe(200);
    expect(durable.headers.get("stream-next-offset")).toMatch(/^(-1|\d{16})$/);
    expect(durable.headers.get("stream-closed")).toBe("true");
    const jsonl = await signedFetch(stack, `${stack.streamUrl}?executionArn=${arn}&offset=-1&live=jsonl`, {
      method: "HEAD",
    });
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers.get("stream-next-offset")).toMatch(/^(-1|\d{16})$/);
  });

  it("an empty long-poll answers 204 with Stream-Next-Offset and Stream-Up-To-Date", async () => {
    const run = await startRun(stack, { count: 3, stepWaitSeconds: 5 });
    const arn = encodeURIComponent(run.executionArn);
    const res = await signedFetch(stack, `${stack.streamUrl}?executionArn=${arn}&offset=now&live=long-poll`);
    expect(res.status).toBe(204);
    expect(res.headers.get("stream-next-offset")).toMatch(/^(-1|\d{16})$/);
    expect(res.headers.get("stream-up-to-date")).toBe("true");
  });

  it("JSON Lines sends its Stream-Next-Offset at once, before the first record exists", async () => {
    const run = await startRun(stack, { count: 1, stepWaitSeconds: 2 });
    const arn = encodeURIComponent(run.executionArn);
    const res = await signedFetch(stack, `${stack.streamUrl}?executionArn=${arn}&offset=-1&live=jsonl`);
    const headersAt = Date.now();
    expect(res.status).toBe(200);
    expect(res.headers.get("stream-next-offset")).toMatch(/^(-1|\d{16})$/);
    const first = JSON.parse((await res.text()).split("\n").find((l) => l.trim()) ?? "{}") as ResultRecord & {
      WrittenAt: number;
    };
    expect(first.WrittenAt).toBeGreaterThan(headersAt);
  });
});

describe("a client that goes away does not stop the streamer (Lambda sends no disconnect event)", () => {
  it("after a reader disconnects, its invocation keeps running and polling the table until its stream ends", async () => {
    // Prepare: a run that writes its records 2 s apart.
    const run = await startRun(stack, { count: 3, stepWaitSeconds: 2, concurrency: 1 });
    const arn = encodeURIComponent(run.executionArn);
    const before = stack.streamerInvocations.running;
    const ac = new AbortController();
    // Act: a signed reader, then gone.
    const reader = await signedFetchStream(`${stack.streamUrl}?executionArn=${arn}&offset=-1&live=jsonl`, ac);
    await until(() => stack.streamerInvocations.running > before);
    ac.abort();
    reader.cancel().catch(() => undefined);
    await until(() => stack.streamerInvocations.outlivedClient >= 1);
    const queriesAtDisconnect = queries();
    await new Promise((r) => setTimeout(r, 1000));
    // Assess: still running, still querying.
    expect(stack.streamerInvocations.running).toBeGreaterThan(before);
    expect(queries()).toBeGreaterThan(queriesAtDisconnect + 3);
    // It ends with the run (the terminal record), as on Lambda.
    await stack.idle();
    await until(() => stack.streamerInvocations.running === before);
  });
});

async function signedFetchStream(url: string, ac: AbortController) {
  const { signRequest } = await import("@stepstream/client");
  const u = new URL(url);
  const headers = await signRequest({
    url: u,
    method: "GET",
    headers: {},
    service: "lambda",
    region: stack.region,
    credentials: stack.credentials as never,
  });
  const res = await fetch(u, { headers, signal: ac.signal });
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no body");
  return reader;
}
