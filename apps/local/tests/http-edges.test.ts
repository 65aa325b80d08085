import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFrontEnd } from "../src/front-end.js";
import { type LocalStack, startStack } from "../src/index.js";

// Issue 11 finding 11: the front end's HTTP edge cases, on raw sockets.
let stack: LocalStack;
let arn: string;
beforeAll(async () => {
  stack = await startStack({ memory: true, port: 0, outputsFile: null, auth: false, stepWaitMs: 0 });
  const started = await fetch(stack.apiEndpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ count: 20 }),
  });
  arn = ((await started.json()) as { workflow: { executionArn: string } }).workflow.executionArn;
  await stack.idle();
});
afterAll(async () => {
  await stack?.close();
});

/** Sends `bytes` on a fresh connection (half-closing after them if asked) and returns all it answered. */
function raw(
  url: string,
  bytes: string,
  o: { halfClose?: boolean; timeoutMs?: number } = {},
): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(u.port), u.hostname, () => {
      if (bytes) socket.write(bytes);
      if (o.halfClose) socket.end();
    });
    socket.on("data", (c: Buffer) => chunks.push(c));
    const done = () => resolve(Buffer.concat(chunks).toString("latin1"));
    socket.on("close", done);
    socket.on("error", done);
    socket.setTimeout(o.timeoutMs ?? 10_000, () => socket.destroy());
  });
}

const streamRequest = () => {
  const u = new URL(stack.streamUrl);
  return `GET /?executionArn=${encodeURIComponent(arn)} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`;
};
const lines = (answer: string) => (answer.match(/"Result":/g) ?? []).length;

describe("HTTP edge cases on the stream URL", () => {
  it("garbage after a request does not write a raw HTTP/1.1 400 into the streaming response, which completes", async () => {
    const answer = await raw(stack.streamUrl, `${streamRequest()}GARBAGE NOT HTTP\r\n\r\n`);
    expect(answer.startsWith("HTTP/1.1 200")).toBe(true);
    expect(answer).not.toContain("HTTP/1.1 400");
    expect(lines(answer)).toBe(20);
    expect(answer.endsWith("0\r\n\r\n")).toBe(true);
  });

  it("a client that half-closes after its request still gets the whole response of a finished execution", async () => {
    const answer = await raw(stack.streamUrl, streamRequest(), { halfClose: true });
    expect(answer.startsWith("HTTP/1.1 200")).toBe(true);
    expect(lines(answer)).toBe(20);
    expect(answer.endsWith("0\r\n\r\n")).toBe(true);
  });
});

describe("idle connections", () => {
  it("a connection that sends nothing, or a head that never ends, is answered 408 with the JSON error", async () => {
    const front = await startFrontEnd({
      port: 0,
      auth: null,
      corsOrigins: [],
      corsMethods: "GET",
      bodyLimit: 1024,
      idleTimeoutMs: 300,
      handle: async (_req, res) => {
        res.end("ok");
      },
    });
    try {
      for (const bytes of ["", "GET / HTTP/1.1\r\nHost: x\r\n"]) {
        const answer = await raw(front.url, bytes, { timeoutMs: 5000 });
        expect(answer.startsWith("HTTP/1.1 408 Request Timeout"), JSON.stringify(answer)).toBe(true);
        expect(answer).toContain('"code":"RequestTimeout"');
      }
      // A complete request is unaffected by the idle bound.
      const ok = await raw(front.url, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      expect(ok.startsWith("HTTP/1.1 200")).toBe(true);
    } finally {
      await front.close();
    }
  });
});
