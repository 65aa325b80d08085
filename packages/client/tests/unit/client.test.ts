import { describe, expect, it } from "vitest";
import { StepstreamClient, StepstreamClientError } from "../../src/index.js";

const ARN = "arn:aws:states:us-east-1:123456789012:express:stepstream:run-1:0f8e2b7c";
const rec = (seq: number, type = "result", extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    ExecutionArn: ARN,
    Offset: String(seq).padStart(16, "0"),
    Type: type,
    RecordKey: `result-${seq}`,
    Result: `r${seq}`,
    ResultTimestamp: "2026-12-01T21:33:15.123Z",
    WrittenAt: 1_796_160_795_123,
    ...(type === "result" ? {} : { FinalResult: true }),
    ...extra,
  });

/** A fetch that answers each call from a script: body lines (optionally cut mid-line), or a status. */
function scriptedFetch(script: { status?: number; body?: string; headers?: Record<string, string> }[]) {
  const urls: URL[] = [];
  const headers: Record<string, string>[] = [];
  const fetchImpl = (async (input: URL | string, init?: RequestInit) => {
    const url = new URL(String(input));
    urls.push(url);
    headers.push(Object.fromEntries(new Headers(init?.headers).entries()));
    const step = script.shift();
    if (!step) throw new TypeError("fetch failed: no more scripted answers");
    if (step.status === undefined && step.body === undefined)
      throw new TypeError("fetch failed: connection refused");
    return new Response(step.body ?? "", { status: step.status ?? 200, headers: step.headers ?? {} });
  }) as typeof fetch;
  return { fetchImpl, urls, headers };
}

const client = (
  fetchImpl: typeof fetch,
  credentials: ConstructorParameters<typeof StepstreamClient>[0]["credentials"] = null,
) =>
  new StepstreamClient({
    apiEndpoint: "http://api.test/",
    streamUrl: "http://stream.test/",
    fetch: fetchImpl,
    credentials,
    reconnectDelayMs: 1,
    region: "us-east-1",
  });

async function drain(s: AsyncIterable<{ Offset: string }>) {
  const out: string[] = [];
  for await (const r of s) out.push(r.Offset);
  return out;
}

describe("StepstreamClient.stream", () => {
  it("yields data records in order and resolves the outcome from the terminal record", async () => {
    const { fetchImpl, urls } = scriptedFetch([
      { body: `${rec(0)}\n\n${rec(1, "final", { FinalResult: true })}\n` },
    ]);
    const s = client(fetchImpl).stream(ARN);
    expect(await drain(s)).toEqual(["0000000000000000", "0000000000000001"]);
    expect(await s.outcome).toMatchObject({ status: "succeeded", offset: "0000000000000001" });
    expect(urls[0]?.searchParams.get("executionArn")).toBe(ARN);
    expect(urls[0]?.searchParams.get("offset")).toBe("-1");
    expect(urls[0]?.searchParams.get("live")).toBe("jsonl");
  });

  it("resumes from the last offset after a server-side close and drops records it already delivered", async () => {
    const { fetchImpl, urls } = scriptedFetch([
      { body: `${rec(0)}\n${rec(1)}\n` },
      { body: `${rec(1)}\n${rec(2)}\n${rec(3, "error", { Error: { Error: "Boom", Cause: "it broke" } })}\n` },
    ]);
    const s = client(fetchImpl).stream(ARN);
    expect(await drain(s)).toEqual(["0000000000000000", "0000000000000001", "0000000000000002"]);
    expect(urls[1]?.searchParams.get("offset")).toBe("0000000000000001");
    expect(await s.outcome).toMatchObject({ status: "failed", error: { Error: "Boom", Cause: "it broke" } });
  });

  it("retries after a network error and a cut line, with backoff, and reports reconnects", async () => {
    const { fetchImpl, urls } = scriptedFetch([
      { body: `${rec(0)}\n{"Execution` },
      {},
      { status: 503, body: "{}" },
      { body: `${rec(1, "final")}\n` },
    ]);
    const reconnects: string[] = [];
    const s = client(fetchImpl).stream(ARN, { onReconnect: (o) => reconnects.push(o) });
    expect(await drain(s)).toEqual(["0000000000000000", "0000000000000001"]);
    expect(reconnects).toEqual(["0000000000000000", "0000000000000000", "0000000000000000"]);
    expect(urls).toHaveLength(4);
  });

  it("does not retry a 4xx and surfaces the server's error code", async () => {
    const { fetchImpl, urls } = scriptedFetch([
      { status: 404, body: JSON.stringify({ error: { code: "NotFound", message: "no such execution" } }) },
    ]);
    const s = client(fetchImpl).stream(ARN);
    await expect(drain(s)).rejects.toMatchObject({ code: "NotFound", status: 404 });
    await expect(s.outcome).rejects.toBeInstanceOf(StepstreamClientError);
    expect(urls).toHaveLength(1);
  });

  it("gives up after maxReconnects failures in a row", async () => {
    const { fetchImpl } = scriptedFetch(Array.from({ length: 20 }, () => ({})));
    const c = new StepstreamClient({
      apiEndpoint: "http://api.test/",
      streamUrl: "http://stream.test/",
      fetch: fetchImpl,
      credentials: null,
      reconnectDelayMs: 1,
      maxReconnects: 3,
    });
    await expect(drain(c.stream(ARN))).rejects.toMatchObject({ code: "Network" });
  });

  it("adds no abort listener per reconnect (no MaxListenersExceededWarning)", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      // 15 dropped connections, each followed by one record (so the back-off stays at 1 ms).
      const script = Array.from({ length: 15 }, (_, i) => [{}, { body: `${rec(i)}\n` }]).flat();
      const { fetchImpl } = scriptedFetch([...script, { body: `${rec(15, "final")}\n` }]);
      const c = new StepstreamClient({
        apiEndpoint: "http://api.test/",
        streamUrl: "http://stream.test/",
        fetch: fetchImpl,
        credentials: null,
        reconnectDelayMs: 1,
      });
      const ac = new AbortController();
      expect(await drain(c.stream(ARN, { signal: ac.signal }))).toHaveLength(16);
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.map((w) => w.name)).not.toContain("MaxListenersExceededWarning");
  });

  it("fails at once, naming the endpoint, when nothing listens at the stream URL or the API", async () => {
    // A port that was just free: a refused connection, as with a stopped local stack.
    const { createServer } = await import("node:net");
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const c = new StepstreamClient({
      apiEndpoint: `http://127.0.0.1:${port}/`,
      streamUrl: `http://127.0.0.1:${port}/`,
      credentials: null,
    });
    const started = Date.now();
    await expect(drain(c.stream(ARN))).rejects.toMatchObject({
      code: "Network",
      message: `could not reach the stream URL http://127.0.0.1:${port}: connection refused (nothing listens there)`,
    });
    await expect(c.start({})).rejects.toMatchObject({
      code: "Network",
      message: `could not reach http://127.0.0.1:${port}: connection refused (nothing listens there)`,
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("stops on abort", async () => {
    const ac = new AbortController();
    const { fetchImpl } = scriptedFetch([
      { body: `${rec(0)}\n` },
      { body: `${rec(1)}\n` },
      { body: `${rec(2)}\n` },
    ]);
    const s = client(fetchImpl).stream(ARN, { signal: ac.signal });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const r of s) {
          seen.push(r.Offset);
          ac.abort();
        }
      })(),
    ).rejects.toMatchObject({ code: "Aborted" });
    expect(seen).toEqual(["0000000000000000"]);
  });

  it("rejects records that fail the schema", async () => {
    const { fetchImpl } = scriptedFetch([
      { body: `${JSON.stringify({ ExecutionArn: ARN, Offset: "x" })}\n` },
    ]);
    await expect(drain(client(fetchImpl).stream(ARN))).rejects.toThrow(/Offset/);
  });

  it("resolves from=now to the server's start offset, so a reconnect before any record does not skip", async () => {
    const { fetchImpl, urls } = scriptedFetch([
      { body: "", headers: { "stream-next-offset": "0000000000000004" } },
      { body: `${rec(5, "final")}\n` },
    ]);
    const s = client(fetchImpl).stream(ARN, { from: "now" });
    expect(await drain(s)).toEqual(["0000000000000005"]);
    expect(urls[0]?.searchParams.get("offset")).toBe("now");
    expect(urls[1]?.searchParams.get("offset")).toBe("0000000000000004");
  });
});

describe("StepstreamClient.start", () => {
  it("POSTs the input and returns the workflow object, signed with SigV4 when credentials are set", async () => {
    const workflow = {
      executionArn: ARN,
      lambdaResultURL: "http://stream.test/",
      completeLambdaResultURL: `http://stream.test/?executionArn=${encodeURIComponent(ARN)}`,
      startDate: "1.764625995123E9",
    };
    const { fetchImpl, headers } = scriptedFetch([{ body: JSON.stringify({ workflow }) }]);
    const started = await client(fetchImpl, { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" }).start({
      count: 3,
    });
    expect(started).toMatchObject({
      executionArn: ARN,
      streamUrl: workflow.completeLambdaResultURL,
      startDate: "1.764625995123E9",
    });
    expect(started.startedAt?.toISOString()).toBe("2025-12-01T21:53:15.123Z");
    expect(headers[0]?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/execute-api\/aws4_request/,
    );
    expect(headers[0]?.["x-amz-content-sha256"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("sends no signature without credentials, and maps an error body to a typed error", async () => {
    const { fetchImpl, headers } = scriptedFetch([
      { status: 400, body: JSON.stringify({ error: { code: "BadRequest", message: "count must be ≥ 1" } }) },
    ]);
    await expect(client(fetchImpl).start({ count: 0 })).rejects.toMatchObject({
      code: "BadRequest",
      status: 400,
    });
    expect(headers[0]?.authorization).toBeUndefined();
  });
});
