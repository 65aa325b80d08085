import type { ResultRecord } from "@stepstream/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalCredentials, type LocalStack, startStack } from "../src/index.js";
import {
  expectFiveResults,
  expectJsonError,
  normalRun,
  type RawRequest,
  type RawResponse,
  readBack,
  type SignOptions,
  send,
  sendSigned,
  sign,
} from "./security-helpers.js";

// A barrage of bad requests against the real local stack over HTTP (both front ends, SigV4 on, the
// built Lambda bundles, the DynamoDB emulator, the ASL interpreter). Each must get the right 4xx
// with the JSON error and no stack trace; none may start an execution; hostile stream requests are
// refused before the table is read; and afterwards a run made before the barrage reads back
// identical and a new run still gets its 5 records.

let stack: LocalStack;
let creds: LocalCredentials;
let apiPort: number;
let streamPort: number;
let before: { executionArn: string; records: ResultRecord[] };

beforeAll(async () => {
  stack = await startStack({ memory: true, port: 0, outputsFile: null, stepWaitMs: 0 });
  creds = stack.credentials as LocalCredentials;
  apiPort = Number(new URL(stack.apiEndpoint).port);
  streamPort = Number(new URL(stack.streamUrl).port);
  const run = await normalRun(stack);
  expect(run.status).toBe("succeeded");
  expectFiveResults(run.records);
  before = run;
});

afterAll(async () => {
  // Let executions started along the way finish before the emulators stop under them.
  await stack?.idle();
  await stack?.close();
});

type Case = {
  name: string;
  send: () => Promise<RawResponse>;
  status: number;
  code?: string;
};

const api = (o: Partial<SignOptions> & { body?: string | Buffer } = {}): SignOptions => ({
  service: "execute-api",
  region: stack.region,
  credentials: creds,
  port: apiPort,
  method: "POST",
  headers: { "content-type": "application/json" },
  body: "{}",
  ...o,
});
const stream = (o: Partial<SignOptions> = {}): SignOptions => ({
  service: "lambda",
  region: stack.region,
  credentials: creds,
  port: streamPort,
  method: "GET",
  rawQuery: `executionArn=${encodeURIComponent(before.executionArn)}`,
  ...o,
});
const start = (input: unknown) => () =>
  sendSigned(api({ body: typeof input === "string" ? input : JSON.stringify(input) }));
const query = (rawQuery: string) => () => sendSigned(stream({ rawQuery }));
const arnQuery = (arn: string) => query(`executionArn=${encodeURIComponent(arn)}`);
const withArn = (extra: string) => query(`executionArn=${encodeURIComponent(before.executionArn)}&${extra}`);
const minutes = (n: number) => new Date(Date.now() + n * 60_000);

/** This stack's execution ARN, with one part replaced. */
function arnWith(
  part: Partial<{
    partition: string;
    region: string;
    account: string;
    kind: string;
    machine: string;
    name: string;
  }>,
) {
  const [, partition, , region, account, kind, machine, name, id] = before.executionArn.split(":");
  return [
    "arn",
    part.partition ?? partition,
    "states",
    part.region ?? region,
    part.account ?? account,
    part.kind ?? kind,
    part.machine ?? machine,
    part.name ?? name,
    id,
  ].join(":");
}

function authCases(): Case[] {
  const otherKey = { ...creds, accessKeyId: "AKIAOTHERACCESSKEY00" };
  const otherSecret = { ...creds, secretAccessKey: "not-the-secret" };
  const tokened = { ...creds, sessionToken: "a-session-token-nobody-issued" };
  const dropHeader = (name: string) => (r: RawRequest) => ({
    ...r,
    headers: r.headers?.filter(([k]) => k !== name),
  });
  const setHeader = (name: string, value: string) => (r: RawRequest) => ({
    ...r,
    headers: [...(r.headers ?? []).filter(([k]) => k !== name), [name, value] as [string, string]],
  });
  const F = "Forbidden";
  return [
    {
      name: "API unsigned",
      send: () => send({ port: apiPort, method: "POST", path: "/", body: "{}" }),
      status: 403,
      code: F,
    },
    {
      name: "stream unsigned",
      send: () =>
        send({
          port: streamPort,
          method: "GET",
          path: `/?executionArn=${encodeURIComponent(before.executionArn)}`,
        }),
      status: 403,
      code: F,
    },
    {
      name: "API unknown access key",
      send: () => sendSigned(api({ credentials: otherKey })),
      status: 403,
      code: F,
    },
    {
      name: "stream unknown access key",
      send: () => sendSigned(stream({ credentials: otherKey })),
      status: 403,
      code: F,
    },
    {
      name: "API wrong secret",
      send: () => sendSigned(api({ credentials: otherSecret })),
      status: 403,
      code: F,
    },
    {
      name: "stream wrong secret",
      send: () => sendSigned(stream({ credentials: otherSecret })),
      status: 403,
      code: F,
    },
    {
      name: "API expired date (10 min ago)",
      send: () => sendSigned(api({ date: minutes(-10) })),
      status: 403,
      code: F,
    },
    {
      name: "stream future date (10 min ahead)",
      send: () => sendSigned(stream({ date: minutes(10) })),
      status: 403,
      code: F,
    },
    { name: "API wrong region", send: () => sendSigned(api({ region: "eu-west-1" })), status: 403, code: F },
    {
      name: "API signed for service lambda",
      send: () => sendSigned(api({ service: "lambda" })),
      status: 403,
      code: F,
    },
    {
      name: "stream signed for service execute-api",
      send: () => sendSigned(stream({ service: "execute-api" })),
      status: 403,
      code: F,
    },
    {
      name: "API tampered body (x-amz-content-sha256 of the signed body)",
      send: () => sendSigned(api({ body: '{"count":3}' }), (r) => ({ ...r, body: '{"count":9}' })),
      status: 403,
      code: F,
    },
    {
      name: "API tampered body (no content hash header, as curl signs)",
      send: () =>
        sendSigned(api({ body: '{"count":3}', contentSha256: false }), (r) => ({
          ...r,
          body: '{"count":9}',
        })),
      status: 403,
      code: F,
    },
    {
      name: "stream tampered query (another offset)",
      send: () => sendSigned(stream(), (r) => ({ ...r, path: `${r.path}&offset=-1` })),
      status: 403,
      code: F,
    },
    {
      name: "stream tampered path",
      send: () => sendSigned(stream(), (r) => ({ ...r, path: r.path.replace("/?", "/x?") })),
      status: 403,
      code: F,
    },
    {
      name: "API tampered method (signed POST, sent PUT)",
      send: () => sendSigned(api(), (r) => ({ ...r, method: "PUT" })),
      status: 403,
      code: F,
    },
    {
      name: "stream signed for another host port",
      send: () => sendSigned(stream(), setHeader("host", `127.0.0.1:${apiPort}`)),
      status: 403,
      code: F,
    },
    {
      name: "API missing signed header (content-type dropped)",
      send: () => sendSigned(api(), dropHeader("content-type")),
      status: 403,
      code: F,
    },
    {
      name: "stream missing x-amz-date",
      send: () => sendSigned(stream(), dropHeader("x-amz-date")),
      status: 403,
      code: F,
    },
    {
      name: "stream session token nobody issued",
      send: () => sendSigned(stream({ credentials: tokened })),
      status: 403,
      code: F,
    },
    {
      name: "API UNSIGNED-PAYLOAD",
      send: () =>
        sendSigned(
          api({
            headers: { "content-type": "application/json", "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
          }),
        ),
      status: 403,
      code: F,
    },
    {
      name: "stream presigned URL (X-Amz-Signature in the query)",
      send: () =>
        send({
          port: streamPort,
          method: "GET",
          path: `/?executionArn=${encodeURIComponent(before.executionArn)}&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${creds.accessKeyId}%2F20250101%2Fus-east-1%2Flambda%2Faws4_request&X-Amz-Signature=${"a".repeat(64)}`,
        }),
      status: 403,
      code: F,
    },
    {
      name: "API two Authorization headers",
      send: () =>
        sendSigned(api(), (r) => ({
          ...r,
          headers: [
            ...(r.headers ?? []),
            ["authorization", r.headers?.find(([k]) => k === "authorization")?.[1] ?? ""],
          ],
        })),
      status: 403,
      code: F,
    },
    {
      name: "API Basic authorization",
      send: () =>
        send({
          port: apiPort,
          method: "POST",
          path: "/",
          headers: [["authorization", "Basic YWRtaW46YWRtaW4="]],
          body: "{}",
        }),
      status: 403,
      code: F,
    },
  ];
}

function startCases(): Case[] {
  const B = "BadRequest";
  let deep = "1";
  for (let i = 0; i < 200; i++) deep = `[${deep}]`;
  return [
    { name: "body is not JSON", send: start('{"count":'), status: 400, code: B },
    { name: "body is a JSON array", send: start("[1,2,3]"), status: 400, code: B },
    { name: "body is a JSON string", send: start('"hello"'), status: 400, code: B },
    { name: "body is JSON null", send: start("null"), status: 400, code: B },
    { name: "body is a JSON number", send: start("42"), status: 400, code: B },
    {
      name: "body is not UTF-8",
      send: () => sendSigned(api({ body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]) })),
      status: 400,
      code: B,
    },
    {
      name: "body over 256 KiB (content-length)",
      send: () => sendSigned(api({ body: `{"pad":"${"x".repeat(256 * 1024)}"}` })),
      status: 413,
      code: "PayloadTooLarge",
    },
    {
      name: "body over 256 KiB (chunked, no content-length)",
      send: async () => {
        const body = `{"pad":"${"y".repeat(300 * 1024)}"}`;
        const headers = await sign(api({ body }));
        return send({ port: apiPort, method: "POST", path: "/", headers, body, chunked: true });
      },
      status: 413,
      code: "PayloadTooLarge",
    },
    { name: "count 0", send: start({ count: 0 }), status: 400, code: B },
    { name: "count 10001", send: start({ count: 10001 }), status: 400, code: B },
    { name: "concurrency 0", send: start({ concurrency: 0 }), status: 400, code: B },
    { name: "concurrency 41", send: start({ concurrency: 41 }), status: 400, code: B },
    { name: "failAt negative", send: start({ failAt: -1 }), status: 400, code: B },
    { name: "stepDurationMs negative", send: start({ stepDurationMs: -5 }), status: 400, code: B },
    { name: "count as a string", send: start({ count: "5" }), status: 400, code: B },
    { name: "count not an integer", send: start({ count: 2.5 }), status: 400, code: B },
    { name: "concurrency as an object", send: start({ concurrency: { $gt: 0 } }), status: 400, code: B },
    { name: "input nested 200 levels deep", send: start(`{"x":${deep}}`), status: 400, code: B },
    { name: "a misspelt field (concurency)", send: start({ concurency: 3 }), status: 400, code: B },
    {
      name: "body as text/plain (415, as passthrough NEVER answers)",
      send: () => sendSigned(api({ headers: { "content-type": "text/plain" } })),
      status: 415,
      code: "UnsupportedMediaType",
    },
    {
      name: "body as application/x-www-form-urlencoded",
      send: () =>
        sendSigned(
          api({ headers: { "content-type": "application/x-www-form-urlencoded" }, body: "count=3" }),
        ),
      status: 415,
      code: "UnsupportedMediaType",
    },
    {
      name: "GET on the API",
      send: () => sendSigned(api({ method: "GET", body: undefined, headers: {} })),
      status: 405,
      code: "MethodNotAllowed",
    },
    {
      name: "PUT on the API",
      send: () => sendSigned(api({ method: "PUT" })),
      status: 405,
      code: "MethodNotAllowed",
    },
    {
      name: "DELETE on the API",
      send: () => sendSigned(api({ method: "DELETE", body: undefined, headers: {} })),
      status: 405,
      code: "MethodNotAllowed",
    },
    {
      name: "unknown API path",
      send: () => sendSigned(api({ path: "/start" })),
      status: 404,
      code: "NotFound",
    },
    {
      name: "API path traversal",
      send: () => sendSigned(api({ path: "/%2e%2e/%2e%2e/etc/passwd" })),
      status: 404,
      code: "NotFound",
    },
  ];
}

function streamCases(): Case[] {
  const B = "BadRequest";
  const A = "InvalidArn";
  const O = "InvalidOffset";
  const N = "NotFound";
  const arn = before.executionArn;
  return [
    { name: "no executionArn", send: query(""), status: 400, code: B },
    { name: "empty executionArn", send: query("executionArn="), status: 400, code: B },
    {
      name: "executionArn twice",
      send: query(`executionArn=${encodeURIComponent(arn)}&executionArn=${encodeURIComponent(arn)}`),
      status: 400,
      code: B,
    },
    {
      name: "double-encoded executionArn",
      send: query(`executionArn=${encodeURIComponent(encodeURIComponent(arn))}`),
      status: 400,
      code: A,
    },
    {
      name: "ARN of another state machine",
      send: arnQuery(arnWith({ machine: "someone-elses-machine" })),
      status: 404,
      code: N,
    },
    {
      name: "ARN of another account",
      send: arnQuery(arnWith({ account: "123456789012" })),
      status: 404,
      code: N,
    },
    { name: "ARN of another region", send: arnQuery(arnWith({ region: "eu-west-1" })), status: 404, code: N },
    {
      name: "ARN of another partition",
      send: arnQuery(arnWith({ partition: "aws-cn" })),
      status: 404,
      code: N,
    },
    {
      name: "ARN of a Standard execution of this machine",
      send: arnQuery(arnWith({ kind: "execution" })),
      status: 404,
      code: N,
    },
    {
      name: "ARN with ../ traversal",
      send: arnQuery(arnWith({ name: "../../other" })),
      status: 400,
      code: A,
    },
    { name: "ARN with %00", send: query(`executionArn=${encodeURIComponent(arn)}%00`), status: 400, code: A },
    {
      name: "ARN with a newline",
      send: query(`executionArn=${encodeURIComponent(arn)}%0A`),
      status: 400,
      code: A,
    },
    { name: "ARN with ' OR 1=1", send: arnQuery(`${arn}' OR 1=1 --`), status: 400, code: A },
    { name: "ARN with <script>", send: arnQuery(`<script>alert(1)</script>`), status: 400, code: A },
    {
      name: "ARN with a DynamoDB expression",
      send: arnQuery("ExecutionArn = :pk OR attribute_exists(Seq)"),
      status: 400,
      code: A,
    },
    {
      name: "ARN 300 characters long",
      send: arnQuery(arnWith({ name: "n".repeat(250) })),
      status: 400,
      code: A,
    },
    { name: "offset -2", send: withArn("offset=-2"), status: 400, code: O },
    { name: "offset abc", send: withArn("offset=abc"), status: 400, code: O },
    { name: "offset of 15 digits", send: withArn(`offset=${"0".repeat(15)}`), status: 400, code: O },
    { name: "offset of 17 digits", send: withArn(`offset=${"0".repeat(17)}`), status: 400, code: O },
    { name: "offset 1e3", send: withArn("offset=1e3"), status: 400, code: O },
    { name: "offset empty", send: withArn("offset="), status: 400, code: O },
    { name: "offset twice", send: withArn("offset=-1&offset=now"), status: 400, code: B },
    { name: "live mode unknown", send: withArn("offset=-1&live=websocket"), status: 400, code: B },
    { name: "live mode in the wrong case", send: withArn("offset=-1&live=SSE"), status: 400, code: B },
    { name: "cursor malformed", send: withArn("offset=-1&cursor=%3Cscript%3E"), status: 400, code: B },
    {
      name: "Last-Event-ID malformed",
      send: () =>
        sendSigned(
          stream({
            rawQuery: `executionArn=${encodeURIComponent(arn)}&offset=-1&live=sse`,
            headers: { "last-event-id": "1 OR 1=1" },
          }),
        ),
      status: 400,
      code: O,
    },
    { name: "query string over 2 KiB", send: withArn(`pad=${"p".repeat(3000)}`), status: 400, code: B },
    {
      name: "POST on the stream URL",
      send: () => sendSigned(stream({ method: "POST", body: "{}" })),
      status: 405,
      code: "MethodNotAllowed",
    },
    {
      name: "DELETE on the stream URL",
      send: () => sendSigned(stream({ method: "DELETE" })),
      status: 405,
      code: "MethodNotAllowed",
    },
    { name: "unknown stream path", send: () => sendSigned(stream({ path: "/admin" })), status: 404, code: N },
  ];
}

function headCases(): Case[] {
  const big: [string, string][] = [["x-padding", "h".repeat(20 * 1024)]];
  return [
    {
      name: "API headers over 16 KiB",
      send: () => send({ port: apiPort, method: "POST", path: "/", headers: big, body: "{}" }),
      status: 431,
      code: "BadRequest",
    },
    {
      name: "stream headers over 16 KiB",
      send: () => send({ port: streamPort, method: "GET", path: "/", headers: big }),
      status: 431,
      code: "BadRequest",
    },
    {
      name: "stream URL over 16 KiB",
      send: () => send({ port: streamPort, method: "GET", path: `/?executionArn=${"a".repeat(20 * 1024)}` }),
      status: 431,
      code: "BadRequest",
    },
    {
      name: "three thousand small headers",
      send: () =>
        send({
          port: apiPort,
          method: "POST",
          path: "/",
          headers: Array.from({ length: 3000 }, (_, i) => [`x-h${i}`, "v"] as [string, string]),
        }),
      status: 431,
      code: "BadRequest",
    },
  ];
}

describe("the local stack refuses bad requests with a JSON 4xx, and loses nothing", () => {
  it("answers every bad request with the right status and the JSON error, and starts nothing", async () => {
    // Prepare
    const cases = [...authCases(), ...startCases(), ...streamCases(), ...headCases()];
    const names = new Set(cases.map((c) => c.name));
    expect(names.size).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(40);
    const executionsBefore = stack.executions.size;
    // Act and assess, one at a time so that a failure names its case.
    for (const c of cases) {
      const res = await c.send();
      if (process.env.SHOW_BAD_REQUESTS) console.log(`${c.name} -> ${res.status} ${res.body.slice(0, 220)}`);
      expectJsonError(res, c.status, c.code, c.name);
    }
    expect(stack.executions.size, "no bad request may start an execution").toBe(executionsBefore);
    console.log(`bad requests: ${cases.length} distinct cases`);
  });

  it("refuses hostile stream requests before reading the table", async () => {
    const reads = () =>
      (stack.dynamoCounts.Query ?? 0) + (stack.dynamoCounts.GetItem ?? 0) + (stack.dynamoCounts.Scan ?? 0);
    const n = reads();
    for (const c of streamCases()) {
      const res = await c.send();
      expect(res.status, c.name).toBeGreaterThanOrEqual(400);
    }
    expect(reads(), "a refused stream request must not touch the table").toBe(n);
  });

  it("still serves a normal run afterwards, and the run made before reads back identical", async () => {
    // Act
    const after = await normalRun(stack);
    const again = await readBack(stack, before.executionArn);
    // Assess
    expect(after.status).toBe("succeeded");
    expectFiveResults(after.records);
    expect(again).toEqual(before.records);
    expect(again.map((r) => r.Offset)).toEqual(["0", "1", "2", "3", "4"].map((d) => d.padStart(16, "0")));
  });
});
