import { DurableStream, DurableStreamError, FetchError, stream } from "@durable-streams/client";
import { type Credentials, StepstreamClient, signRequest } from "@stepstream/client";
import type { ResultRecord } from "@stepstream/results-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startStack } from "../src/index.js";

// The published Durable Streams client reads an execution from the stream URL, start to end, in
// long-poll and in SSE mode, against the local stack (the built streamer bundle, DynamoDB emulator,
// ASL interpreter), every request signed with SigV4 as on AWS.

let stack: LocalStack;
let credentials: Credentials;

beforeAll(async () => {
  stack = await startStack({
    memory: true,
    port: 0,
    outputsFile: null,
    stepWaitMs: 0,
    // A short function timeout, so that an SSE connection ends (cleanly, before the deadline) every 3 s.
    streamer: {
      pollIntervalMs: 20,
      maxPollIntervalMs: 100,
      longPollSeconds: 2,
      heartbeatSeconds: 1,
      functionTimeoutSeconds: 4,
      deadlineMarginMs: 1000,
    },
  });
  if (!stack.credentials) throw new Error("the stack should verify SigV4");
  credentials = stack.credentials;
});

afterAll(async () => {
  await stack?.close();
});

/** A `fetch` that signs each request for the Function URL (service `lambda`) and remembers its URL. */
function signedFetch(seen: URL[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const method = init?.method ?? "GET";
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, key) => {
      headers[key] = value;
    });
    const signed = await signRequest({
      url,
      method,
      headers,
      service: "lambda",
      region: stack.region,
      credentials,
    });
    seen.push(url);
    return fetch(url, { ...init, method, headers: { ...headers, ...signed } });
  };
}

/** Starts a run through the stack's API: `count` steps of `stepDurationMs` each. */
async function startRun(input: { count: number; stepDurationMs: number }) {
  const client = new StepstreamClient({ apiEndpoint: stack.apiEndpoint, credentials, region: stack.region });
  return client.start(input);
}

/**
 * The stream URL has no records until the first step writes: a catch-up read answers 404 until then.
 * The client's `onError` hook retries that case (briefly) and nothing else.
 */
function retryNotFoundFor(ms: number) {
  const until = Date.now() + ms;
  return async (error: Error) => {
    const notFound =
      (error instanceof FetchError || error instanceof DurableStreamError) && error.status === 404;
    if (!notFound || Date.now() > until) return undefined;
    await new Promise((r) => setTimeout(r, 25));
    return {};
  };
}

async function readAll(
  url: string,
  live: "long-poll" | "sse",
  seen: URL[],
): Promise<{ records: ResultRecord[]; closed: boolean; offset: string; upToDate: boolean }> {
  const res = await stream<ResultRecord>({
    url,
    offset: "-1",
    live,
    fetch: signedFetch(seen),
    onError: retryNotFoundFor(10_000),
    backoffOptions: { initialDelay: 50, maxDelay: 500, multiplier: 1.5, maxRetries: 5 },
    sseResilience: { logWarnings: false },
  });
  const records: ResultRecord[] = [];
  for await (const record of res.jsonStream()) records.push(record);
  return { records, closed: res.streamClosed, offset: res.offset, upToDate: res.upToDate };
}

function assertWholeRun(records: ResultRecord[], executionArn: string): void {
  expect(records.map((r) => r.Offset)).toEqual([0, 1, 2, 3, 4].map((i) => String(i).padStart(16, "0")));
  expect(records.map((r) => r.Type)).toEqual(["result", "result", "result", "result", "final"]);
  expect(records.every((r) => r.ExecutionArn === executionArn)).toBe(true);
  expect(new Set(records.map((r) => r.RecordKey)).size).toBe(5);
}

describe("@durable-streams/client against the stream URL", () => {
  it("reads a running execution start to end in long-poll mode, ending closed", async () => {
    // Prepare
    const run = await startRun({ count: 5, stepDurationMs: 400 });
    const seen: URL[] = [];

    // Act
    const out = await readAll(run.completeLambdaResultURL, "long-poll", seen);

    // Assess
    assertWholeRun(out.records, run.executionArn);
    expect(out.closed).toBe(true);
    expect(out.upToDate).toBe(true);
    expect(out.offset).toBe("0000000000000004");
    expect(seen.some((u) => u.searchParams.get("live") === "long-poll")).toBe(true);
    expect(seen.some((u) => u.searchParams.get("live") === "sse")).toBe(false);
  });

  it("reads a running execution start to end in SSE mode, ending closed", async () => {
    // Prepare
    const run = await startRun({ count: 5, stepDurationMs: 400 });
    const seen: URL[] = [];

    // Act
    const out = await readAll(run.completeLambdaResultURL, "sse", seen);

    // Assess
    assertWholeRun(out.records, run.executionArn);
    expect(out.closed).toBe(true);
    expect(out.offset).toBe("0000000000000004");
    const sse = seen.filter((u) => u.searchParams.get("live") === "sse");
    expect(sse.length).toBeGreaterThanOrEqual(1);
    expect(seen.some((u) => u.searchParams.get("live") === "long-poll")).toBe(false);
  });

  it("resumes an SSE read across the server's clean closes before the Lambda deadline", async () => {
    // Prepare
    const run = await startRun({ count: 5, stepDurationMs: 1500 });
    const seen: URL[] = [];

    // Act
    const out = await readAll(run.completeLambdaResultURL, "sse", seen);

    // Assess
    assertWholeRun(out.records, run.executionArn);
    expect(out.closed).toBe(true);
    const sse = seen
      .filter((u) => u.searchParams.get("live") === "sse")
      .map((u) => u.searchParams.get("offset"));
    expect(sse.length).toBeGreaterThanOrEqual(2);
    expect([...sse].sort()).toEqual(sse); // each reconnect resumes from the last control event's offset
  });

  it("replays a finished execution in full with a fresh reader, and HEAD reports it closed", async () => {
    // Prepare
    const run = await startRun({ count: 5, stepDurationMs: 0 });
    await stack.idle();
    const seen: URL[] = [];
    const handle = new DurableStream({
      // HEAD with an offset reaches the Durable Streams read side (without one it is the JSON Lines stream's).
      url: `${run.completeLambdaResultURL}&offset=-1`,
      contentType: "application/json",
      fetch: signedFetch(seen),
    });

    // Act
    const longPoll = await readAll(run.completeLambdaResultURL, "long-poll", seen);
    const sse = await readAll(run.completeLambdaResultURL, "sse", seen);
    const head = await handle.head();

    // Assess
    assertWholeRun(longPoll.records, run.executionArn);
    assertWholeRun(sse.records, run.executionArn);
    expect(longPoll.closed && sse.closed).toBe(true);
    expect(head).toMatchObject({ exists: true, offset: "0000000000000004", streamClosed: true });
    expect(head.exists && head.contentType).toBe("application/json");
  });

  it("reads nothing but the closure from offset=now on a finished execution", async () => {
    // Prepare
    const run = await startRun({ count: 5, stepDurationMs: 0 });
    await stack.idle();
    const seen: URL[] = [];

    // Act
    const res = await stream<ResultRecord>({
      url: run.completeLambdaResultURL,
      offset: "now",
      live: "long-poll",
      fetch: signedFetch(seen),
    });
    const items = await res.json();

    // Assess
    expect(items).toEqual([]);
    expect(res.streamClosed).toBe(true);
    expect(res.offset).toBe("0000000000000004");
  });

  it("answers 404 for an execution with no records", async () => {
    // Prepare
    const executionArn = `${stack.stateMachineArn.replace(":stateMachine:", ":express:")}:never-started:00000000-0000-4000-8000-000000000000`;
    const url = `${stack.streamUrl}?executionArn=${encodeURIComponent(executionArn)}`;

    // Act
    const reading = stream({ url, offset: "-1", live: false, fetch: signedFetch([]) });

    // Assess
    await expect(reading).rejects.toMatchObject({ status: 404 });
  });
});
