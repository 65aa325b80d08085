// @vitest-environment jsdom
import { act, cleanup, renderHook, waitFor } from "@testing-library/react";
import { createElement, type ReactNode, StrictMode } from "react";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { StepstreamClient, type StreamOutcome } from "../../src/index.js";
import { StepstreamProvider, useExecutionStream } from "../../src/react.js";
import { type StackProcess, startStackProcess } from "../support/local-stack.js";

// The hook against the real local stack (the built streamer and step bundles, the DynamoDB emulator,
// the ASL interpreter, SigV4 verified): no mocks. The stack runs in its own Node process, as
// `make local` runs it, since this file's globals are jsdom's (turbo builds @stepstream/local first:
// packages/client/turbo.json).

const SIMULATED = (i: number) => `This is simulated result ${i}`;

let stack: StackProcess;
let client: StepstreamClient;

beforeAll(async () => {
  stack = await startStackProcess({
    stepWaitMs: 0,
    streamer: { pollIntervalMs: 20, maxPollIntervalMs: 100 },
  });
  if (!stack.credentials) throw new Error("the stack should verify SigV4");
  client = new StepstreamClient({
    apiEndpoint: stack.apiEndpoint,
    streamUrl: stack.streamUrl,
    credentials: stack.credentials,
    region: stack.region,
  });
}, 60_000);

afterEach(() => cleanup());
afterAll(async () => {
  await stack?.close();
});

const start = async (input: Record<string, unknown>) => (await client.start(input)).executionArn;

describe("useExecutionStream", () => {
  it("streams a run's records in order, then its terminal status, with one completion", async () => {
    // Prepare
    const arn = await start({ count: 5, stepDurationMs: 60 });
    const completions: StreamOutcome[] = [];
    const statuses: string[] = [];

    // Act
    const { result } = renderHook(() => {
      const s = useExecutionStream(arn, { client, onComplete: (o) => completions.push(o) });
      statuses.push(s.status);
      return s;
    });

    // Assess
    await waitFor(() => expect(result.current.status).toBe("succeeded"), { timeout: 15_000 });
    expect(result.current.records.map((r) => r.Result)).toEqual([0, 1, 2, 3, 4].map(SIMULATED));
    expect(result.current.records.at(-1)?.Type).toBe("final");
    expect(result.current.offset).toBe(result.current.records.at(-1)?.Offset);
    expect(result.current.error).toBeNull();
    expect(completions).toHaveLength(1);
    expect(completions[0]?.status).toBe("succeeded");
    expect(statuses).toContain("connecting");
    expect(statuses).toContain("streaming");
  });

  it("reports a failing run's error from its terminal record", async () => {
    const arn = await start({ count: 5, failAt: 2 });
    const completions: StreamOutcome[] = [];

    const { result } = renderHook(() =>
      useExecutionStream(arn, { client, onComplete: (o) => completions.push(o) }),
    );

    await waitFor(() => expect(result.current.status).toBe("failed"), { timeout: 15_000 });
    expect(result.current.records.map((r) => r.Result)).toEqual([SIMULATED(0), SIMULATED(1)]);
    expect(result.current.error).toMatchObject({ source: "workflow" });
    expect(result.current.error?.message).toContain("failAt=2");
    expect(completions.map((c) => c.status)).toEqual(["failed"]);
  });

  it("resumes after `from`: only later records, none twice", async () => {
    const arn = await start({ count: 5 });
    const full = renderHook(() => useExecutionStream(arn, { client }));
    await waitFor(() => expect(full.result.current.status).toBe("succeeded"), { timeout: 15_000 });
    const from = full.result.current.records[1]?.Offset as string;

    const { result } = renderHook(() => useExecutionStream(arn, { client, from }));

    await waitFor(() => expect(result.current.status).toBe("succeeded"), { timeout: 15_000 });
    expect(result.current.records.map((r) => r.Result)).toEqual([2, 3, 4].map(SIMULATED));
  });

  it("keeps at most maxRecords, the newest, and counts the dropped ones", async () => {
    const arn = await start({ count: 8, concurrency: 4 });

    const { result } = renderHook(() => useExecutionStream(arn, { client, maxRecords: 3 }));

    await waitFor(() => expect(result.current.status).toBe("succeeded"), { timeout: 15_000 });
    expect(result.current.records).toHaveLength(3);
    expect(result.current.dropped).toBe(5);
    expect(result.current.records.at(-1)?.Type).toBe("final");
    const offsets = result.current.records.map((r) => r.Offset);
    expect([...offsets].sort()).toEqual(offsets);
  });

  it("resumes after a dropped connection without a duplicate (the client reconnects)", async () => {
    // A fetch that cuts the first two stream responses after their first line: a real network cut,
    // not a mock; every request still goes to the stack.
    let cuts = 2;
    const cuttingFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const isStream = String(input instanceof URL ? input.href : input).startsWith(stack.streamUrl);
      if (!isStream || !res.body || cuts <= 0) return res;
      cuts--;
      const reader = res.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const { done, value } = await reader.read();
          if (done) return controller.close();
          const text = new TextDecoder().decode(value);
          const nl = text.indexOf("\n");
          if (nl >= 0 && nl < text.length) {
            controller.enqueue(value.slice(0, nl + 1));
            await reader.cancel();
            controller.error(new TypeError("terminated: connection cut by the test"));
            return;
          }
          controller.enqueue(value);
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const arn = await start({ count: 5, stepDurationMs: 80 });
    const statuses = new Set<string>();

    const { result } = renderHook(() => {
      const s = useExecutionStream(arn, {
        clientOptions: {
          apiEndpoint: stack.apiEndpoint,
          streamUrl: stack.streamUrl,
          credentials: stack.credentials,
          region: stack.region,
          fetch: cuttingFetch,
          reconnectDelayMs: 20,
        },
      });
      statuses.add(s.status);
      return s;
    });

    await waitFor(() => expect(result.current.status).toBe("succeeded"), { timeout: 15_000 });
    expect(cuts).toBe(0);
    expect(statuses).toContain("reconnecting");
    expect(result.current.records.map((r) => r.Result)).toEqual([0, 1, 2, 3, 4].map(SIMULATED));
  });

  it("aborts its request on unmount and reports nothing afterwards", async () => {
    const signals: AbortSignal[] = [];
    const trackingFetch: typeof fetch = (input, init) => {
      if (init?.signal) signals.push(init.signal);
      return fetch(input, init);
    };
    const arn = await start({ count: 5, stepDurationMs: 300 });
    const seen: string[] = [];
    const completions: StreamOutcome[] = [];
    const tracked = new StepstreamClient({
      apiEndpoint: stack.apiEndpoint,
      streamUrl: stack.streamUrl,
      credentials: stack.credentials,
      region: stack.region,
      fetch: trackingFetch,
    });

    const { result, unmount } = renderHook(() =>
      useExecutionStream(arn, {
        client: tracked,
        onRecord: (r) => seen.push(r.Offset),
        onComplete: (o) => completions.push(o),
      }),
    );
    await waitFor(() => expect(result.current.records.length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    unmount();
    const atUnmount = seen.length;
    await new Promise((r) => setTimeout(r, 1500));

    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(seen).toHaveLength(atUnmount);
    expect(completions).toHaveLength(0);
  });

  it("calls onComplete exactly once under StrictMode (effects run twice) and with a provider's client", async () => {
    const arn = await start({ count: 3 });
    const completions: StreamOutcome[] = [];
    const wrapper = ({ children }: { children: ReactNode }) =>
      createElement(StrictMode, null, createElement(StepstreamProvider, { client }, children));

    const { result, rerender } = renderHook(
      () => useExecutionStream(arn, { onComplete: (o) => completions.push(o) }),
      {
        wrapper,
      },
    );
    await waitFor(() => expect(result.current.status).toBe("succeeded"), { timeout: 15_000 });
    rerender();
    await act(async () => new Promise((r) => setTimeout(r, 300)));

    expect(completions).toHaveLength(1);
    expect(result.current.records.map((r) => r.Result)).toEqual([0, 1, 2].map(SIMULATED));
  });

  it("switches executions: the old stream stops, the new one starts from scratch", async () => {
    const first = await start({ count: 5, stepDurationMs: 300 });
    const second = await start({ count: 2 });
    const completed: string[] = [];

    const { result, rerender } = renderHook(
      ({ arn }: { arn: string | null }) =>
        useExecutionStream(arn, { client, onComplete: (o) => completed.push(o.terminal.ExecutionArn) }),
      { initialProps: { arn: first as string | null } },
    );
    await waitFor(() => expect(result.current.records.length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    rerender({ arn: second });
    await waitFor(() => expect(result.current.status).toBe("succeeded"), { timeout: 15_000 });

    expect(result.current.records.map((r) => r.ExecutionArn)).toEqual([second, second]);
    expect(completed).toEqual([second]);

    rerender({ arn: null });
    expect(result.current.status).toBe("idle");
    expect(result.current.records).toEqual([]);
  });

  it("does not restart the stream when inline clientOptions (new objects and functions) re-render", async () => {
    const arn = await start({ count: 4, stepDurationMs: 100 });
    let streamRequests = 0;
    const creds = stack.credentials as { accessKeyId: string; secretAccessKey: string };

    const { result, rerender } = renderHook(() =>
      useExecutionStream(arn, {
        clientOptions: {
          apiEndpoint: stack.apiEndpoint,
          streamUrl: stack.streamUrl,
          region: stack.region,
          credentials: async () => ({ ...creds }),
          fetch: (input, init) => {
            streamRequests++;
            return fetch(input, init);
          },
        },
      }),
    );
    for (let i = 0; i < 5; i++) {
      await act(async () => new Promise((r) => setTimeout(r, 50)));
      rerender();
    }
    await waitFor(() => expect(result.current.status).toBe("succeeded"), { timeout: 15_000 });

    expect(streamRequests).toBe(1);
    expect(result.current.records.map((r) => r.Result)).toEqual([0, 1, 2, 3].map(SIMULATED));
  });

  it("is idle for a null execution, and says what is missing without a client", async () => {
    const idle = renderHook(() => useExecutionStream(null, { client }));
    const noClient = renderHook(() =>
      useExecutionStream("arn:aws:states:us-east-1:000000000000:express:m:e:x"),
    );

    expect(idle.result.current).toMatchObject({ status: "idle", records: [], error: null, offset: "-1" });
    await waitFor(() => expect(noClient.result.current.status).toBe("error"));
    expect(noClient.result.current.error?.message).toMatch(/needs a client/);
  });

  it("reports a stream it cannot read (wrong credentials) as an error, once", async () => {
    const arn = await start({ count: 1 });
    const errors: unknown[] = [];

    const { result } = renderHook(() =>
      useExecutionStream(arn, {
        clientOptions: {
          apiEndpoint: stack.apiEndpoint,
          streamUrl: stack.streamUrl,
          credentials: { accessKeyId: "AKIAWRONGWRONGWRONG1", secretAccessKey: "wrong" },
          region: stack.region,
        },
        onError: (e) => errors.push(e),
      }),
    );

    await waitFor(() => expect(result.current.status).toBe("error"), { timeout: 10_000 });
    expect(result.current.error).toMatchObject({ source: "stream", code: "Forbidden" });
    expect(errors).toHaveLength(1);
  });
});
