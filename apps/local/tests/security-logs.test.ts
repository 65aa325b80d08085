import { StepstreamClient } from "@stepstream/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startStack } from "../src/index.js";
import { readBack, send, sendSigned } from "./security-helpers.js";

// What the local stack logs (its `--verbose` log function) and what the Lambdas log (Powertools, on
// stdout, at INFO as `--verbose` sets it) while signed requests come and go, one of them with a bad
// signature: never the secret key, the session token, a signature or a record's content; always the
// execution ARN, so a request can be traced.

const CREDENTIALS = {
  accessKeyId: "AKIALOGTESTKEY000001",
  secretAccessKey: "log-test/secret/DO-NOT-LOG/0001",
  sessionToken: "log-test-session-token-DO-NOT-LOG",
};

let stack: LocalStack;
const logLines: string[] = [];
const output: string[] = [];
const sentAuthorizations: string[] = [];
const restore: (() => void)[] = [];

function capture(stream: NodeJS.WriteStream): void {
  const original = stream.write.bind(stream);
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    output.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
    return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof stream.write;
  restore.push(() => {
    stream.write = original as typeof stream.write;
  });
}

beforeAll(async () => {
  capture(process.stdout);
  capture(process.stderr);
  stack = await startStack({
    memory: true,
    port: 0,
    outputsFile: null,
    stepWaitMs: 0,
    credentials: CREDENTIALS,
    logLevel: "INFO",
    log: (message, fields) => logLines.push(JSON.stringify({ message, ...fields })),
  });
});

afterAll(async () => {
  await stack?.idle();
  await stack?.close();
  for (const r of restore) r();
});

/** A client that records every Authorization header it sends. */
function recordingClient(): StepstreamClient {
  return new StepstreamClient({
    apiEndpoint: stack.apiEndpoint,
    streamUrl: stack.streamUrl,
    credentials: CREDENTIALS,
    region: stack.region,
    fetch: (input, init) => {
      const auth = new Headers(init?.headers).get("authorization");
      if (auth) sentAuthorizations.push(auth);
      return fetch(input, init);
    },
  });
}

describe("logs never carry credentials, signatures or record content", () => {
  it("logs the execution ARN and none of the secrets while runs start, stream and fail", async () => {
    // Prepare
    const client = recordingClient();
    // Act: a run streamed to the end, a finished run read again, a run that fails on purpose, a
    // request with a bad signature on each front end, and a stream request the streamer refuses.
    const run = await client.run({ count: 3 });
    const records = [];
    for await (const r of run) records.push(r);
    await run.outcome;
    await readBack(stack, run.executionArn).catch(() => undefined);
    const failing = await client.run({ count: 3, failAt: 1 });
    for await (const _ of failing) {
      // drain
    }
    await failing.outcome;
    const apiPort = Number(new URL(stack.apiEndpoint).port);
    const streamPort = Number(new URL(stack.streamUrl).port);
    const wrong = { ...CREDENTIALS, secretAccessKey: "log-test/wrong-secret/DO-NOT-LOG" };
    const bad1 = await sendSigned({
      service: "lambda",
      region: stack.region,
      credentials: wrong,
      port: streamPort,
      method: "GET",
      rawQuery: `executionArn=${encodeURIComponent(run.executionArn)}`,
    });
    const bad2 = await sendSigned({
      service: "execute-api",
      region: stack.region,
      credentials: wrong,
      port: apiPort,
      method: "POST",
      body: '{"count":2}',
    });
    const refused = await sendSigned({
      service: "lambda",
      region: stack.region,
      credentials: CREDENTIALS,
      port: streamPort,
      method: "GET",
      rawQuery: `executionArn=${encodeURIComponent(run.executionArn.replace(":stepstream-local:", ":another-machine:"))}`,
    });
    const unsigned = await send({ port: apiPort, method: "POST", path: "/", body: "{}" });
    await stack.idle();

    // Assess: the requests did what they should…
    expect(records.map((r) => r.Result)).toEqual([0, 1, 2].map((i) => `This is simulated result ${i}`));
    expect([bad1.status, bad2.status, refused.status, unsigned.status]).toEqual([403, 403, 404, 403]);
    // …the logs were captured (both the stack's and the Lambdas' Powertools lines)…
    const stackLog = logLines.join("\n");
    const lambdaLog = output.join("");
    expect(lambdaLog).toMatch(/"message":"result written"/);
    expect(lambdaLog).toMatch(/"service":"stepstream-streamer"/);
    expect(stackLog).toMatch(/"rejected":"The request signature we calculated does not match/);
    // …they name the execution…
    expect(stackLog).toContain(run.executionArn);
    expect(lambdaLog).toContain(run.executionArn);
    // …and carry no secret, token, signature or record content.
    const signatures = sentAuthorizations.map((a) => /Signature=([0-9a-f]{64})/.exec(a)?.[1] as string);
    expect(signatures.length).toBeGreaterThanOrEqual(4);
    for (const [name, log] of [
      ["stack log", stackLog],
      ["Lambda log", lambdaLog],
    ] as const) {
      expect(log, name).not.toContain(CREDENTIALS.secretAccessKey);
      expect(log, name).not.toContain(wrong.secretAccessKey);
      expect(log, name).not.toContain(CREDENTIALS.sessionToken);
      expect(log, name).not.toContain("AWS4-HMAC-SHA256 Credential=");
      expect(log, name).not.toContain(CREDENTIALS.accessKeyId);
      for (const s of signatures) expect(log, name).not.toContain(s);
      expect(log, name).not.toContain("This is simulated result");
      expect(log, name).not.toMatch(/x-amz-security-token|x-amz-content-sha256/i);
    }
  });
});
