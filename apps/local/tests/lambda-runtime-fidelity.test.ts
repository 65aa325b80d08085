import { request as httpRequest, type IncomingMessage } from "node:http";
import type { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { type FrontEnd, startFrontEnd } from "../src/front-end.js";
import { type FunctionUrlHandler, functionUrlHandler } from "../src/function-url.js";
import { installAwsLambdaGlobal } from "../src/lambda-runtime.js";

/**
 * The local Lambda runtime + Function URL against what AWS documents and what AWS's own runtime
 * interface client does (src/HttpResponseStream.js, src/ResponseStream.js; issues #97, #145).
 */
type Handler = (event: unknown, stream: Writable, context: unknown) => Promise<void>;
interface AwsLambda {
  HttpResponseStream: {
    from(s: Writable, p: { statusCode: number; headers: Record<string, string> }): Writable;
  };
}
installAwsLambdaGlobal();
const awslambda = (globalThis as unknown as { awslambda: AwsLambda }).awslambda;

let front: FrontEnd | undefined;
afterEach(async () => {
  await front?.close();
  front = undefined;
});

async function serveFunction(
  handler: Handler,
  extra: Partial<Parameters<typeof functionUrlHandler>[0]> = {},
): Promise<{ url: string; fn: FunctionUrlHandler }> {
  const fn = functionUrlHandler({
    handler,
    functionName: "f",
    region: "us-east-1",
    account: "000000000000",
    timeoutMs: 60_000,
    ...extra,
  });
  front = await startFrontEnd({
    port: 0,
    auth: null,
    corsOrigins: [],
    corsMethods: "GET",
    bodyLimit: 1024,
    handle: fn,
  });
  return { url: front.url, fn };
}

const until = async (cond: () => boolean, ms = 5000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe("the prelude goes with the first write only (RIC HttpResponseStream._onBeforeFirstWrite)", () => {
  it("from() then end() with no write: the client gets a bare 200 with none of the status and headers", async () => {
    const { url } = await serveFunction(async (_e, s) => {
      awslambda.HttpResponseStream.from(s, { statusCode: 404, headers: { "x-foo": "bar" } }).end();
    });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-foo")).toBeNull();
    expect(await res.text()).toBe("");
  });

  it("from() then end(chunk) with no write: the bytes come with no prelude, so the Function URL answers 502", async () => {
    const { url } = await serveFunction(async (_e, s) => {
      awslambda.HttpResponseStream.from(s, { statusCode: 404, headers: { "x-foo": "bar" } }).end("Not Found");
    });
    const res = await fetch(url);
    expect(res.status).toBe(502);
    expect(res.headers.get("x-foo")).toBeNull();
  });

  it("an empty first write sends the prelude: status and headers arrive, body empty", async () => {
    const { url } = await serveFunction(async (_e, s) => {
      const b = awslambda.HttpResponseStream.from(s, { statusCode: 204, headers: { "x-foo": "bar" } });
      b.write("");
      b.end();
    });
    const res = await fetch(url);
    expect(res.status).toBe(204);
    expect(res.headers.get("x-foo")).toBe("bar");
  });

  it("without from(): the body is relayed as application/octet-stream with status 200", async () => {
    const { url } = await serveFunction(async (_e, s) => {
      s.end("raw");
    });
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(await res.text()).toBe("raw");
  });
});

describe("a client that goes away (Lambda: no event, the invocation runs and is billed until it returns)", () => {
  it("the handler's stream sees no close or error, its writes are swallowed, and the invocation counts as running until the handler returns", async () => {
    // Prepare
    let events = 0;
    let writesAfterGone = 0;
    let release: () => void = () => undefined;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let clientGone = false;
    const { url, fn } = await serveFunction(async (_e, s) => {
      s.once("close", () => events++);
      s.once("error", () => events++);
      const b = awslambda.HttpResponseStream.from(s, { statusCode: 200, headers: {} });
      b.write("first\n");
      while (!clientGone) await new Promise((r) => setTimeout(r, 5));
      for (let i = 0; i < 20; i++) {
        b.write(`after ${i}\n`);
        writesAfterGone++;
        await new Promise((r) => setTimeout(r, 5));
      }
      await released;
      b.end();
    });
    // Act: read the first line, then disconnect.
    const ac = new AbortController();
    const res = await fetch(url, { signal: ac.signal });
    const reader = res.body?.getReader();
    await reader?.read();
    ac.abort();
    await until(() => fn.stats.outlivedClient === 1);
    clientGone = true;
    await until(() => writesAfterGone === 20);
    // Assess: still running, no event.
    expect(fn.stats.running).toBe(1);
    expect(events).toBe(0);
    release();
    await until(() => fn.stats.running === 0);
    expect(fn.stats.started).toBe(1);
  });

  it("the function's timeout ends the invocation and cuts the client's response", async () => {
    const { url, fn } = await serveFunction(
      async (_e, s) => {
        awslambda.HttpResponseStream.from(s, { statusCode: 200, headers: {} }).write("x");
        await new Promise(() => undefined);
      },
      { timeoutMs: 300 },
    );
    const res = await fetch(url);
    await expect(res.text()).rejects.toThrow();
    expect(fn.stats.timedOut).toBe(1);
    expect(fn.stats.running).toBe(0);
  });
});

describe("back-pressure from the client's socket reaches the handler", () => {
  it("a client that does not read makes write() return false and drain wait: the handler stops at a bounded amount", async () => {
    const chunk = "x".repeat(64 * 1024);
    let accepted = 0;
    let stalled = false;
    const { url } = await serveFunction(async (_e, s) => {
      const b = awslambda.HttpResponseStream.from(s, { statusCode: 200, headers: {} });
      // Up to 64 MiB if nothing pushes back.
      for (let i = 0; i < 1024; i++) {
        accepted += chunk.length;
        if (!b.write(chunk)) {
          const drained = await Promise.race([
            new Promise<boolean>((r) => b.once("drain", () => r(true))),
            new Promise<boolean>((r) => setTimeout(() => r(false), 1000)),
          ]);
          if (!drained) {
            stalled = true;
            break;
          }
        }
      }
      b.end();
    });
    // A client that reads the head and then nothing.
    let response: IncomingMessage | undefined;
    const req = httpRequest(url, (r) => {
      response = r;
      r.pause();
    });
    req.end();
    await until(() => stalled, 30_000);
    // Loopback socket buffers take a few MiB; without back-pressure the handler writes all 64 MiB.
    expect(accepted).toBeLessThan(16 * 1024 * 1024);
    response?.destroy();
  });

  it("past the first 6 MB the response is capped in bandwidth (here scaled down: 64 KiB uncapped, then 1 MiB/s)", async () => {
    const { url } = await serveFunction(
      async (_e, s) => {
        const b = awslambda.HttpResponseStream.from(s, { statusCode: 200, headers: {} });
        const piece = "y".repeat(64 * 1024);
        for (let i = 0; i < 9; i++) {
          if (!b.write(piece)) await new Promise((r) => b.once("drain", r));
        }
        b.end();
      },
      { limits: { uncappedBytes: 64 * 1024, cappedBytesPerSecond: 1024 * 1024 } },
    );
    const started = Date.now();
    const text = await (await fetch(url)).text();
    expect(text.length).toBe(9 * 64 * 1024);
    // 512 KiB over the cap at 1 MiB/s: at least 0.5 s (less a margin for timer granularity).
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });
});
