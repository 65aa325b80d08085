import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { stream } from "@durable-streams/client";
import { type Credentials, signRequest } from "@stepstream/client";
import { type ResultRecord, TABLE_SCHEMA } from "@stepstream/results-schema";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startStack } from "../src/index.js";
import { clientOf, readAll as readWithClient, signedFetch, startRun } from "./support.js";

// The read side against the Durable Streams protocol (ElectricSQL PROTOCOL.md), one test per
// point of issue 12 item 2 and items 3–5, over real HTTP against the local stack (the built
// streamer bundle, dynalite, the ASL interpreter). The published conformance suite needs HTTP
// create/append (PUT/POST), which this server does not have (§3 allows read-only servers), and it
// reads back the bytes it appended; its read-side cases are expressed here instead, citing them.

let stack: LocalStack;

beforeAll(async () => {
  stack = await startStack({
    memory: true,
    port: 0,
    outputsFile: null,
    stepWaitMs: 0,
    streamer: {
      pollIntervalMs: 20,
      maxPollIntervalMs: 100,
      longPollSeconds: 2,
      heartbeatSeconds: 1,
      maxConnectionSeconds: 2,
      maxExecutionSeconds: 30,
      streamTimeoutSeconds: 30,
    },
  });
});

afterAll(async () => {
  await stack?.close();
});

const url = (executionArn: string, params: Record<string, string> = {}) => {
  const u = new URL(stack.streamUrl);
  u.searchParams.set("executionArn", executionArn);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.href;
};

/** An ARN of this state machine that nothing ever started (its name carries no start time). */
const unknownArn = () =>
  `${stack.stateMachineArn.replace(":stateMachine:", ":express:")}:never-started:00000000-0000-4000-8000-000000000000`;

async function finishedRun(input: Record<string, unknown> = { count: 3, stepDurationMs: 0 }) {
  const run = await startRun(stack, input);
  await stack.idle();
  return run;
}

/** A signed `fetch` for `@durable-streams/client`. */
function dsFetch(): typeof fetch {
  return async (input, init) => {
    const u = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
    const method = init?.method ?? "GET";
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const signed = await signRequest({
      url: u,
      method,
      headers,
      service: "lambda",
      region: stack.region,
      credentials: stack.credentials as Credentials,
    });
    return fetch(u, { ...init, method, headers: { ...headers, ...signed } });
  };
}

/** Reads an SSE response until it ends (the server closes it), or `ms` pass. */
async function sseText(
  target: string,
  ms = 10_000,
): Promise<{ status: number; headers: Headers; text: string }> {
  const ctrl = new AbortController();
  const t = setTimeout(() => ctrl.abort(), ms);
  try {
    const res = await dsFetch()(target, { signal: ctrl.signal });
    let text = "";
    const decoder = new TextDecoder();
    try {
      const body = res.body?.getReader();
      for (;;) {
        const next = await body?.read();
        if (!next || next.done) break;
        text += decoder.decode(next.value, { stream: true });
      }
    } catch {
      // aborted after `ms`: keep what arrived
    }
    return { status: res.status, headers: res.headers, text };
  } finally {
    clearTimeout(t);
  }
}

/** Control events as the conformance suite parses them: `event: control` directly followed by `data:`. */
const controls = (text: string) =>
  [...text.matchAll(/event: control\s*\ndata:({[^}]+})/g)].map((m) => JSON.parse(m[1] as string));

/** Sets `ExpiresAt` of every stored record of an execution to the past (DynamoDB would delete them later). */
async function expireAll(executionArn: string, count: number) {
  const ddb = new DynamoDBClient({ region: stack.region, endpoint: stack.dynamoEndpoint });
  for (let seq = 0; seq < count; seq++) {
    await ddb.send(
      new UpdateItemCommand({
        TableName: stack.tableName,
        Key: { [TABLE_SCHEMA.partitionKey]: { S: executionArn }, [TABLE_SCHEMA.sortKey]: { N: String(seq) } },
        UpdateExpression: "SET #ttl = :past",
        ExpressionAttributeNames: { "#ttl": TABLE_SCHEMA.ttlAttribute },
        ExpressionAttributeValues: { ":past": { N: String(Math.floor(Date.now() / 1000) - 60) } },
      }),
    );
  }
  ddb.destroy();
}

describe("Durable Streams read side (PROTOCOL.md), issue 12 item 2", () => {
  it("§8: never generates -1 or now as an offset (JSON Lines, long-poll 204, SSE, HEAD of a just-started run)", async () => {
    // Prepare: a run whose first record comes after 1.5 s, read at once.
    const run = await startRun(stack, { count: 1, stepDurationMs: 1500 });

    // Act
    const [jsonl, head, poll, sse] = await Promise.all([
      signedFetch(stack, url(run.executionArn, { live: "jsonl", offset: "-1" })).then(async (r) => {
        const h = r.headers.get("stream-next-offset");
        await r.body?.cancel();
        return h;
      }),
      signedFetch(stack, url(run.executionArn, { offset: "-1" }), { method: "HEAD" }),
      signedFetch(stack, url(run.executionArn, { offset: "now", live: "long-poll" })),
      sseText(url(run.executionArn, { offset: "now", live: "sse" }), 1200),
    ]);
    await stack.idle();

    // Assess
    const offsets = [
      jsonl,
      head.headers.get("stream-next-offset"),
      poll.headers.get("stream-next-offset"),
      ...controls(sse.text).map((c) => c.streamNextOffset as string),
    ];
    expect(offsets.length).toBeGreaterThanOrEqual(4);
    for (const o of offsets) expect(o === "-1" || o === "now" || o === null).toBe(false);
    expect(head.headers.get("stream-next-offset")).toBe("-000000000000001");
  });

  it("§5.7/§5.8: live=long-poll and live=sse without offset are 400", async () => {
    // Prepare
    const run = await finishedRun();

    // Act
    const poll = await signedFetch(stack, url(run.executionArn, { live: "long-poll" }));
    const sse = await signedFetch(stack, url(run.executionArn, { live: "sse" }));

    // Assess
    expect(poll.status).toBe(400);
    expect(sse.status).toBe(400);
    expect(((await poll.json()) as { error: { message: string } }).error.message).toMatch(
      /offset is required/,
    );
    await sse.body?.cancel();
  });

  it("§10.1: If-None-Match equal to the ETag is 304 with no body; another tag is 200", async () => {
    // Prepare
    const run = await finishedRun();
    const first = await signedFetch(stack, url(run.executionArn, { offset: "-1" }));
    const etag = first.headers.get("etag") as string;
    await first.text();

    // Act
    const same = await signedFetch(stack, url(run.executionArn, { offset: "-1" }), {
      headers: { "if-none-match": etag },
    });
    const other = await signedFetch(stack, url(run.executionArn, { offset: "-1" }), {
      headers: { "if-none-match": '"something-else"' },
    });

    // Assess
    expect(etag).toMatch(/^".+:c"$/);
    expect(same.status).toBe(304);
    expect(same.headers.get("etag")).toBe(etag);
    expect(await same.text()).toBe("");
    expect(other.status).toBe(200);
    expect(((await other.json()) as unknown[]).length).toBe(3);
  });

  it("§10.1: the CORS preflight allows If-None-Match", async () => {
    // Prepare
    const cors = await startStack({
      memory: true,
      port: 0,
      outputsFile: null,
      stepWaitMs: 0,
      corsOrigins: ["https://app.example.com"],
    });
    try {
      // Act
      const res = await fetch(cors.streamUrl, {
        method: "OPTIONS",
        headers: {
          origin: "https://app.example.com",
          "access-control-request-method": "GET",
          "access-control-request-headers": "if-none-match",
        },
      });

      // Assess
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-headers")?.split(",")).toContain("if-none-match");
    } finally {
      await cors.close();
    }
  });

  it("§12.7: 4xx and 5xx carry X-Content-Type-Options: nosniff", async () => {
    // Act
    const notFound = await signedFetch(stack, url(unknownArn(), { offset: "-1" }));
    const bad = await signedFetch(stack, url(unknownArn(), { offset: "12" }));

    // Assess
    expect(notFound.status).toBe(404);
    expect(bad.status).toBe(400);
    for (const r of [notFound, bad]) {
      expect(r.headers.get("x-content-type-options")).toBe("nosniff");
      await r.text();
    }
  });

  it("§5.8: the control event paired with the data event that reaches the tail says upToDate", async () => {
    // Prepare
    const run = await finishedRun({ count: 3, stepDurationMs: 0, failAt: 1 });
    const open = await startRun(stack, { count: 2, stepDurationMs: 3000 });
    await new Promise((r) => setTimeout(r, 500));

    // Act: a running execution with nothing new after its first batch.
    const live = await sseText(url(open.executionArn, { offset: "-1", live: "sse" }), 1500);
    const closed = await sseText(url(run.executionArn, { offset: "-1", live: "sse" }));
    await stack.idle();

    // Assess
    const blocks = live.text.split("\n\n").filter((b) => b.trim() && !b.startsWith(":"));
    const firstData = blocks.findIndex((b) => b.startsWith("event: data"));
    if (firstData >= 0) {
      expect(blocks[firstData + 1]).toMatch(/^event: control\ndata:\{.*"upToDate":true/);
    }
    expect(controls(closed.text).at(-1)).toMatchObject({ streamClosed: true, upToDate: true });
    // The suite's expectations beyond PROTOCOL.md: followed.
    expect(closed.headers.get("cache-control")).toContain("no-cache");
  });

  it("§4/§5.5: closure is durable: expired records never reopen a closed stream", async () => {
    // Prepare
    const run = await finishedRun();
    await expireAll(run.executionArn, 3);

    // Act
    const head = await signedFetch(stack, url(run.executionArn, { offset: "-1" }), { method: "HEAD" });
    const catchUp = await signedFetch(stack, url(run.executionArn, { offset: "-1" }));
    const started = Date.now();
    const poll = await signedFetch(
      stack,
      url(run.executionArn, { offset: "0000000000000000", live: "long-poll" }),
    );
    const pollMs = Date.now() - started;
    const sse = await sseText(url(run.executionArn, { offset: "-1", live: "sse" }));

    // Assess
    expect(head.status).toBe(200);
    expect(head.headers.get("stream-closed")).toBe("true");
    expect(catchUp.status).toBe(200);
    expect(catchUp.headers.get("stream-closed")).toBe("true");
    expect(await catchUp.json()).toEqual([]);
    expect(poll.status).toBe(204);
    expect(poll.headers.get("stream-closed")).toBe("true");
    expect(pollMs).toBeLessThan(1500); // never waits out the long-poll
    expect(controls(sse.text).at(-1)).toMatchObject({ streamClosed: true });
  });

  it("one URL: GET without offset is the sample's JSON Lines stream; with offset it is the protocol", async () => {
    // Prepare
    const run = await finishedRun();

    // Act
    const sample = await signedFetch(stack, run.completeLambdaResultURL);
    const protocol = await signedFetch(stack, `${run.completeLambdaResultURL}&offset=-1`);

    // Assess
    expect(sample.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect((await sample.text()).trim().split("\n")).toHaveLength(3);
    expect(protocol.headers.get("content-type")).toBe("application/json");
    expect(protocol.headers.get("stream-closed")).toBe("true");
    expect(await protocol.json()).toHaveLength(3);
  });

  it("§5.7/§5.8: live reads of an unknown execution are 404 at once", async () => {
    // Act
    const started = Date.now();
    const results = await Promise.all(
      (
        [
          { offset: "-1", live: "long-poll" },
          { offset: "-1", live: "sse" },
          { offset: "-1", live: "jsonl" },
          {},
        ] as Record<string, string>[]
      ).map(async (p) => {
        const r = await signedFetch(stack, url(unknownArn(), p));
        await r.text();
        return r.status;
      }),
    );

    // Assess
    expect(results).toEqual([404, 404, 404, 404]);
    expect(Date.now() - started).toBeLessThan(1500);
  });
});

describe("a just-started execution is an empty stream in every mode (issue 12 item 3)", () => {
  it("answers HEAD, catch-up, long-poll, SSE and JSON Lines before its first record", async () => {
    // Prepare: the first record comes after 2 s.
    const run = await startRun(stack, { count: 1, stepDurationMs: 2000 });

    // Act
    const head = await signedFetch(stack, url(run.executionArn, { offset: "-1" }), { method: "HEAD" });
    const catchUp = await signedFetch(stack, url(run.executionArn, { offset: "-1" }));
    const now = await signedFetch(stack, url(run.executionArn, { offset: "now" }));
    const jsonl = await signedFetch(stack, url(run.executionArn, { offset: "-1", live: "jsonl" }));
    const sample = await signedFetch(stack, run.completeLambdaResultURL);

    // Assess
    expect(head.status).toBe(200);
    expect(head.headers.get("stream-closed")).toBeNull();
    expect(catchUp.status).toBe(200);
    expect(await catchUp.json()).toEqual([]);
    expect(catchUp.headers.get("stream-up-to-date")).toBe("true");
    expect(now.status).toBe(200);
    expect(await now.json()).toEqual([]);
    expect(jsonl.status).toBe(200);
    expect(sample.status).toBe(200);
    const lines = (await sample.text()).trim().split("\n");
    expect((JSON.parse(lines.at(-1) as string) as ResultRecord).Type).toBe("final");
    await jsonl.text();
  });

  it("@durable-streams/client, started the moment POST answers, reads the whole run in long-poll and SSE", async () => {
    for (const live of ["long-poll", "sse"] as const) {
      // Prepare
      const run = await startRun(stack, { count: 3, stepDurationMs: 300 });

      // Act: no retry on 404, no wait.
      const res = await stream<ResultRecord>({
        url: run.completeLambdaResultURL,
        offset: "-1",
        live,
        fetch: dsFetch(),
        sseResilience: { logWarnings: false },
      });
      const records: ResultRecord[] = [];
      for await (const r of res.jsonStream()) records.push(r);

      // Assess
      expect(records.map((r) => r.Type)).toEqual(["result", "result", "final"]);
      expect(res.streamClosed).toBe(true);
    }
  });
});

describe("reads that end (issue 12 items 4 and 5)", () => {
  it("every read of a closed stream at or past its end ends at once with the true status", async () => {
    // Prepare
    const run = await finishedRun();
    const client = clientOf(stack);

    // Act
    const started = Date.now();
    const fromTerminal = await readWithClient(client, run.executionArn, "0000000000000002");
    const fromNow = await readWithClient(client, run.executionArn, "now");
    const raw = await signedFetch(stack, url(run.executionArn, { live: "jsonl", offset: "now" }));
    const rawText = await raw.text();
    const elapsed = Date.now() - started;

    // Assess
    expect(fromTerminal.records).toEqual([]);
    expect(fromTerminal.outcome.status).toBe("succeeded");
    expect(fromNow.outcome.status).toBe("succeeded");
    expect(raw.headers.get("stream-closed")).toBe("true");
    expect(JSON.parse(rawText.trim()).Type).toBe("final");
    expect(elapsed).toBeLessThan(3000);
  });

  it("results is a snapshot: what is stored now, and whether the run is still going", async () => {
    // Prepare
    const client = clientOf(stack);
    const open = await startRun(stack, { count: 3, stepDurationMs: 800 });
    await new Promise((r) => setTimeout(r, 1200));

    // Act
    const started = Date.now();
    const snapshot = await client.results(open.executionArn);
    const ms = Date.now() - started;
    const unknown = await client.results(unknownArn()).catch((e: Error & { code?: string }) => e);
    await stack.idle();
    const done = await client.results(open.executionArn);

    // Assess
    expect(ms).toBeLessThan(1000);
    expect(snapshot.status).toBe("running");
    expect(snapshot.records.length).toBeGreaterThanOrEqual(1);
    expect(snapshot.records.length).toBeLessThan(3);
    expect((unknown as { code?: string }).code).toBe("NotFound");
    expect(done.status).toBe("succeeded");
    expect(done.records.map((r) => r.Type)).toEqual(["result", "result", "final"]);
  });

  it("the synthetic timeout of an execution with no record carries the start offset, so a resume skips nothing", async () => {
    // Prepare: an execution name the API would choose, started 29 s ago (MAX_EXECUTION_SECONDS = 30),
    // with no record: its readers wait about 1 s, then get a timeout record; a late write comes after.
    const name = `ss-${Date.now() - 29_000}-late-writer`;
    const arn = `${stack.stateMachineArn.replace(":stateMachine:", ":express:")}:${name}:11111111-1111-4111-8111-111111111111`;

    // Act
    const res = await signedFetch(stack, url(arn, { offset: "-1", live: "jsonl" }));
    const lines = (await res.text())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as ResultRecord);

    // Assess
    const timeout = lines.at(-1) as ResultRecord;
    expect(timeout).toMatchObject({ Type: "timeout", Synthetic: true, Offset: "-000000000000001" });
    const ddb = new DynamoDBClient({ region: stack.region, endpoint: stack.dynamoEndpoint });
    await ddb.send(
      new PutItemCommand({
        TableName: stack.tableName,
        Item: {
          ExecutionArn: { S: arn },
          Seq: { N: "0" },
          RecordKey: { S: "result-0" },
          Type: { S: "final" },
          Result: { S: "late" },
          ResultTimestamp: { N: String(Date.now()) },
          ExpiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) },
        },
      }),
    );
    ddb.destroy();
    const resumed = await signedFetch(stack, url(arn, { offset: timeout.Offset }));
    expect(((await resumed.json()) as ResultRecord[]).map((r) => r.Offset)).toEqual(["0000000000000000"]);
  });

  it("every read mode measures the no-terminal deadline from the last record's write, not the connection", async () => {
    // Prepare: an execution (a name without a start time) whose only record was written 35 s ago,
    // with STREAM_TIMEOUT 30 s: it died without a terminal record (crash, Express's limit).
    const arn = `${stack.stateMachineArn.replace(":stateMachine:", ":express:")}:dead-run:22222222-2222-4222-8222-222222222222`;
    const ddb = new DynamoDBClient({ region: stack.region, endpoint: stack.dynamoEndpoint });
    await ddb.send(
      new PutItemCommand({
        TableName: stack.tableName,
        Item: {
          ExecutionArn: { S: arn },
          Seq: { N: "0" },
          RecordKey: { S: "result-0" },
          Type: { S: "result" },
          Result: { S: "only" },
          ResultTimestamp: { N: String(Date.now() - 35_000) },
          ExpiresAt: { N: String(Math.floor(Date.now() / 1000) + 3600) },
        },
      }),
    );
    ddb.destroy();

    // Act: every mode ends at once with a timeout record.
    const started = Date.now();
    const jsonl = await signedFetch(stack, url(arn, { offset: "-1", live: "jsonl" })).then((r) => r.text());
    const sample = await signedFetch(stack, url(arn)).then((r) => r.text());
    const poll = await signedFetch(stack, url(arn, { offset: "0000000000000000", live: "long-poll" }));
    const sse = await sseText(url(arn, { offset: "0000000000000000", live: "sse" }));
    const elapsed = Date.now() - started;

    // Assess
    expect(jsonl).toContain('"Synthetic":true');
    expect(sample).toContain('"Synthetic":true');
    expect(poll.status).toBe(200);
    expect(poll.headers.get("stream-closed")).toBe("true");
    expect(((await poll.json()) as ResultRecord[])[0]).toMatchObject({
      Type: "timeout",
      Offset: "0000000000000000",
    });
    expect(sse.text).toContain('"Synthetic":true');
    expect(elapsed).toBeLessThan(3000);
  });
});

describe("bounded connections (issue 11 item 2, reader side)", () => {
  it("ends a resumable connection after MAX_CONNECTION_SECONDS and the client resumes transparently", async () => {
    // Prepare: a run longer than two connection bounds (2 s).
    const run = await startRun(stack, { count: 3, stepDurationMs: 1800 });
    const client = clientOf(stack);
    const reconnects: string[] = [];

    // Act
    const s = client.stream(run.executionArn, { onReconnect: (o) => reconnects.push(o) });
    const records: ResultRecord[] = [];
    for await (const r of s) records.push(r);
    const outcome = await s.outcome;

    // Assess
    expect(records.map((r) => r.Offset)).toEqual([
      "0000000000000000",
      "0000000000000001",
      "0000000000000002",
    ]);
    expect(outcome.status).toBe("succeeded");
    expect(reconnects.length).toBeGreaterThanOrEqual(1);
  });
});
