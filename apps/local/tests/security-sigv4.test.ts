import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { type Credentials, signRequest } from "@stepstream/client";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  canonicalHeaderValue,
  canonicalQuery,
  canonicalUri,
  type LocalCredentials,
  MAX_CLOCK_SKEW_MS,
  type SignedRequest,
  verifySigV4,
} from "../src/auth.js";

// Unit tests of the local stack's SigV4 verifier: every request is signed by a real signer (the
// client's `signRequest`, or `@smithy/signature-v4` directly, which is what the AWS SDK uses), and
// then verified as the front ends verify it. One test per rule, each failure with AWS's wording.

const CREDS: LocalCredentials = {
  accessKeyId: "AKIATESTLOCALKEY0001",
  secretAccessKey: "test/secret/key/0001",
};
const REGION = "us-east-1";
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);
const STREAM = "http://127.0.0.1:8751/";
const API = "http://127.0.0.1:8750/";
const ARN = "arn:aws:states:us-east-1:000000000000:express:stepstream-local:run-1:0f8e1c2d";
const MISMATCH = /^The request signature we calculated does not match the signature you provided/;

type Service = "execute-api" | "lambda";

/** Signs with the client (as the CLI, the demo and apps do) and returns what the front end would see. */
async function clientSigned(
  url: string,
  o: {
    method?: string;
    body?: string;
    headers?: Record<string, string>;
    service?: Service;
    credentials?: Credentials;
  } = {},
): Promise<SignedRequest> {
  const u = new URL(url);
  const method = o.method ?? (o.body !== undefined ? "POST" : "GET");
  const signed = await signRequest({
    url: u,
    method,
    headers: o.headers ?? {},
    ...(o.body !== undefined ? { body: o.body } : {}),
    service: o.service ?? (o.body !== undefined ? "execute-api" : "lambda"),
    region: REGION,
    credentials: o.credentials ?? CREDS,
  });
  return asReceived(u, method, { ...o.headers, ...signed }, o.body);
}

/** Signs with `@smithy/signature-v4` directly: `path` is sent as given (already percent-encoded). */
async function smithySigned(o: {
  method?: string;
  host?: string;
  path?: string;
  rawQuery?: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: string;
  service?: Service;
  region?: string;
  credentials?: LocalCredentials;
  date?: number;
  applyChecksum?: boolean;
}): Promise<SignedRequest> {
  const host = o.host ?? "127.0.0.1:8750";
  const query = o.query ?? Object.fromEntries(new URLSearchParams(o.rawQuery ?? ""));
  const signer = new SignatureV4({
    service: o.service ?? "execute-api",
    region: o.region ?? REGION,
    credentials: o.credentials ?? CREDS,
    sha256: Sha256,
    applyChecksum: o.applyChecksum ?? true,
  });
  const method = o.method ?? "GET";
  const signed = await signer.sign(
    {
      method,
      protocol: "http:",
      hostname: host.replace(/:\d+$/, ""),
      path: o.path ?? "/",
      query,
      headers: { host, ...o.headers },
      ...(o.body !== undefined ? { body: o.body } : {}),
    },
    { signingDate: new Date(o.date ?? NOW) },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) headers[k.toLowerCase()] = String(v);
  const rawQuery = o.rawQuery ?? new URLSearchParams(query as Record<string, string>).toString();
  return {
    method,
    rawUrl: `${o.path ?? "/"}${rawQuery ? `?${rawQuery}` : ""}`,
    headers,
    body: Buffer.from(o.body ?? ""),
  };
}

function asReceived(u: URL, method: string, headers: Record<string, string>, body?: string): SignedRequest {
  const lower: Record<string, string> = { host: u.host };
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return { method, rawUrl: `${u.pathname}${u.search}`, headers: lower, body: Buffer.from(body ?? "") };
}

const verify = (
  req: SignedRequest,
  o: { service?: Service; now?: number; credentials?: LocalCredentials } = {},
) =>
  verifySigV4(req, {
    credentials: o.credentials ?? CREDS,
    region: REGION,
    service: o.service ?? (req.method === "POST" ? "execute-api" : "lambda"),
    now: o.now ?? Date.now(),
  });

const streamUrl = (q = `executionArn=${encodeURIComponent(ARN)}`) => `${STREAM}?${q}`;

describe("verifySigV4 accepts what real signers produce", () => {
  it("accepts the stream URL GET signed by the client (service lambda)", async () => {
    // Prepare
    const req = await clientSigned(streamUrl());
    // Act
    const v = await verify(req);
    // Assess
    expect(v).toEqual({ ok: true, accessKeyId: CREDS.accessKeyId });
  });

  it("accepts the start API POST with a JSON body signed by the client (service execute-api)", async () => {
    const req = await clientSigned(API, {
      body: '{"count":3}',
      headers: { "content-type": "application/json" },
    });
    expect(await verify(req)).toMatchObject({ ok: true });
  });

  it("accepts a request signed with @smithy/signature-v4 directly, with and without x-amz-content-sha256", async () => {
    for (const applyChecksum of [true, false]) {
      const req = await smithySigned({ method: "POST", body: "{}", applyChecksum });
      expect("x-amz-content-sha256" in req.headers).toBe(applyChecksum);
      expect(await verify(req, { now: NOW })).toMatchObject({ ok: true });
    }
  });

  it("matches the AWS SigV4 test suite's get-vanilla vector", async () => {
    // The published vector: GET / on example.amazonaws.com, 20150830T123600Z, AKIDEXAMPLE.
    const req: SignedRequest = {
      method: "GET",
      rawUrl: "/",
      headers: {
        host: "example.amazonaws.com",
        "x-amz-date": "20150830T123600Z",
        authorization:
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
      },
      body: Buffer.alloc(0),
    };
    const v = await verifySigV4(req, {
      credentials: {
        accessKeyId: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      },
      region: "us-east-1",
      service: "service",
      now: Date.UTC(2015, 7, 30, 12, 36, 0),
    });
    expect(v).toMatchObject({ ok: true });
  });

  it("accepts a session token that matches and is signed", async () => {
    const creds = { ...CREDS, sessionToken: "session/token/value==" };
    const req = await clientSigned(streamUrl(), { credentials: creds });
    expect(req.headers["x-amz-security-token"]).toBe(creds.sessionToken);
    expect(await verify(req, { credentials: creds })).toMatchObject({ ok: true });
  });

  it("canonicalises the path by encoding each segment twice (non-S3), as smithy signs it", async () => {
    for (const path of [
      "/a%20b/c",
      "/x/%2Fy/",
      "/caf%C3%A9",
      "/a/./b/../c",
      "//double//slash",
      "/semi;colon:at@",
    ]) {
      const req = await smithySigned({ path });
      expect(await verify(req, { service: "execute-api", now: NOW }), path).toMatchObject({ ok: true });
    }
    expect(canonicalUri("/a%20b")).toBe("/a%2520b");
    expect(canonicalUri("/a/./b/../c/")).toBe("/a/c/");
    expect(canonicalUri("")).toBe("/");
  });

  it("canonicalises the query from the raw string: sorted, re-encoded, empty values, repeated keys", async () => {
    const raw = "b=2&a=&a=1&c&z=%7E~&sp=a+b&q=%3a%2F&%C3%A9=%E2%9C%93";
    expect(canonicalQuery(raw)).toBe("%C3%A9=%E2%9C%93&a=&a=1&b=2&c=&q=%3A%2F&sp=a%20b&z=~~");
    const req = await clientSigned(`${STREAM}?${raw}`);
    expect(await verify(req)).toMatchObject({ ok: true });
    // Re-ordering the parameters is not tampering: the canonical form is sorted.
    const reordered = { ...req, rawUrl: "/?a=1&a=&c=&b=2&sp=a%20b&q=:/&z=~~&%C3%A9=%E2%9C%93" };
    expect(await verify(reordered)).toMatchObject({ ok: true });
  });

  it("signs repeated query keys sorted by value (smithy with an array value)", async () => {
    const req = await smithySigned({ query: { k: ["b", "a", "c"] }, rawQuery: "k=c&k=a&k=b" });
    expect(await verify(req, { service: "execute-api", now: NOW })).toMatchObject({ ok: true });
  });

  it("trims header values and folds runs of blanks, as AWS does", async () => {
    const req = await smithySigned({ headers: { "x-custom": "a   b \t c" } });
    expect(req.headers.authorization).toContain("x-custom");
    // What arrives after a proxy re-spaced the header is still the same canonical value.
    const respaced = { ...req, headers: { ...req.headers, "x-custom": "a b  c" } };
    expect(await verify(respaced, { service: "execute-api", now: NOW })).toMatchObject({ ok: true });
    expect(canonicalHeaderValue("  a \t  b  ")).toBe("a b");
  });

  it("accepts dates up to 5 minutes off either way", async () => {
    const req = await smithySigned({});
    for (const skew of [-MAX_CLOCK_SKEW_MS + 1000, 0, MAX_CLOCK_SKEW_MS - 1000]) {
      expect(await verify(req, { service: "execute-api", now: NOW + skew })).toMatchObject({ ok: true });
    }
  });

  it("accepts any URL the client signs (property, seeded)", async () => {
    const segment = fc.string({ unit: "grapheme", minLength: 0, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { maxLength: 4 }),
        fc.array(fc.tuple(segment, segment), { maxLength: 5 }),
        async (segments, params) => {
          const u = new URL(STREAM);
          u.pathname = `/${segments.map(encodeURIComponent).join("/")}`;
          for (const [k, v] of params) u.searchParams.append(k, v);
          if (u.searchParams.has("X-Amz-Signature")) return;
          const req = await clientSigned(u.href);
          const v = await verify(req);
          expect(v, `${req.rawUrl}\n${v.ok ? "" : v.canonicalRequest}`).toMatchObject({ ok: true });
        },
      ),
      { seed: 20250601, numRuns: 200 },
    );
  });
});

describe("verifySigV4 refuses, with AWS's wording", () => {
  it("an unsigned request: Missing Authentication Token", async () => {
    const v = await verify({
      method: "GET",
      rawUrl: "/",
      headers: { host: "127.0.0.1:8751" },
      body: Buffer.alloc(0),
    });
    expect(v).toMatchObject({ ok: false, message: expect.stringMatching(/^Missing Authentication Token/) });
  });

  it("another scheme, a malformed header or a missing component", async () => {
    const good = await clientSigned(streamUrl());
    const auth = good.headers.authorization as string;
    const cases: [string, RegExp][] = [
      ["Basic dXNlcjpwYXNz", /Unsupported Authorization scheme/],
      ["AWS4-HMAC-SHA1 Credential=x", /Unsupported Authorization scheme/],
      [auth.replace(/, Signature=[0-9a-f]+/, ""), /requires 'Signature' parameter/],
      [auth.replace(/Credential=[^,]+, /, ""), /requires 'Credential' parameter/],
      [
        auth.replace(/Signature=([0-9a-f]+)/, (_, s: string) => `Signature=${s.toUpperCase()}`),
        /64 lower-case hexadecimal/,
      ],
      [
        auth.replace(/Signature=([0-9a-f]+)/, (_, s: string) => `Signature=${s.slice(2)}`),
        /64 lower-case hexadecimal/,
      ],
      [`${auth}, Signature=${"0".repeat(64)}`, /repeated component 'Signature'/],
      [auth.replace(/\/aws4_request/, ""), /Credential must be/],
      // Two Authorization headers arrive joined with ','.
      [`${auth},${auth}`, /^Only one Authorization header may be sent/],
    ];
    for (const [authorization, message] of cases) {
      const v = await verify({ ...good, headers: { ...good.headers, authorization } });
      expect(v, authorization).toMatchObject({ ok: false, message: expect.stringMatching(message) });
    }
  });

  it("an unknown access key", async () => {
    const req = await clientSigned(streamUrl(), {
      credentials: { ...CREDS, accessKeyId: "AKIAOTHERKEY00000000" },
    });
    expect(await verify(req)).toMatchObject({
      ok: false,
      message: "The security token included in the request is invalid.",
    });
  });

  it("the wrong secret key", async () => {
    const req = await clientSigned(streamUrl(), {
      credentials: { ...CREDS, secretAccessKey: "not/the/secret" },
    });
    expect(await verify(req)).toMatchObject({ ok: false, message: expect.stringMatching(MISMATCH) });
  });

  it("a credential scoped to another region, another service or another terminator", async () => {
    const other = await smithySigned({ region: "eu-west-1" });
    expect(await verify(other, { service: "execute-api", now: NOW })).toMatchObject({
      ok: false,
      message: "Credential should be scoped to a valid region, not 'eu-west-1'.",
    });
    // A signature for the stream URL (lambda) replayed against the API (execute-api).
    const lambda = await clientSigned(API, { method: "POST", body: "{}", service: "lambda" });
    expect(await verify(lambda, { service: "execute-api" })).toMatchObject({
      ok: false,
      message: "Credential should be scoped to correct service: 'execute-api'.",
    });
    const req = await smithySigned({});
    const bad = req.headers.authorization?.replace("aws4_request", "aws5_request") as string;
    expect(
      await verify(
        { ...req, headers: { ...req.headers, authorization: bad } },
        { service: "execute-api", now: NOW },
      ),
    ).toMatchObject({
      ok: false,
      message: expect.stringMatching(/valid terminator: 'aws4_request', not 'aws5_request'/),
    });
  });

  it("an expired date and a future date (more than 5 minutes either way)", async () => {
    const req = await smithySigned({});
    expect(await verify(req, { service: "execute-api", now: NOW + MAX_CLOCK_SKEW_MS + 1000 })).toMatchObject({
      ok: false,
      message:
        "Signature expired: 20250601T120000Z is now earlier than 20250601T120001Z (20250601T120501Z - 5 min.)",
    });
    expect(await verify(req, { service: "execute-api", now: NOW - MAX_CLOCK_SKEW_MS - 1000 })).toMatchObject({
      ok: false,
      message:
        "Signature not yet current: 20250601T120000Z is still later than 20250601T115959Z (20250601T115459Z + 5 min.)",
    });
  });

  it("a missing, malformed or impossible X-Amz-Date, or a scope date of another day", async () => {
    const req = await smithySigned({});
    const { "x-amz-date": _drop, ...noDate } = req.headers;
    expect(await verify({ ...req, headers: noDate }, { service: "execute-api", now: NOW })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/requires existence of a 'X-Amz-Date' header/),
    });
    for (const d of ["2025-06-01T12:00:00Z", "20250230T120000Z", "20250601T250000Z", "1748779200"]) {
      const v = await verify(
        { ...req, headers: { ...req.headers, "x-amz-date": d } },
        { service: "execute-api", now: NOW },
      );
      expect(v, d).toMatchObject({ ok: false, message: expect.stringMatching(/ISO8601 basic format/) });
    }
    const v = await verify(
      { ...req, headers: { ...req.headers, "x-amz-date": "20250602T000100Z" } },
      { service: "execute-api", now: NOW },
    );
    expect(v).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^Date in Credential scope does not match/),
    });
  });

  it("signed headers without host or x-amz-date, unsorted, or naming a header that is missing", async () => {
    // smithy signs what it is given: without a host header it signs no host.
    const signer = new SignatureV4({
      service: "execute-api",
      region: REGION,
      credentials: CREDS,
      sha256: Sha256,
    });
    const noHost = await signer.sign(
      { method: "GET", protocol: "http:", hostname: "127.0.0.1", path: "/", query: {}, headers: {} },
      { signingDate: new Date(NOW) },
    );
    const headers = { ...(noHost.headers as Record<string, string>), host: "127.0.0.1:8750" };
    expect(
      await verify(
        { method: "GET", rawUrl: "/", headers, body: Buffer.alloc(0) },
        { service: "execute-api", now: NOW },
      ),
    ).toMatchObject({
      ok: false,
      message: "'Host' must be a 'SignedHeader' in the AWS Authorization.",
    });

    const req = await smithySigned({ headers: { "content-type": "application/json" } });
    const auth = req.headers.authorization as string;
    const withList = (list: string) => ({
      ...req,
      headers: {
        ...req.headers,
        authorization: auth.replace(/SignedHeaders=[^,]+/, `SignedHeaders=${list}`),
      },
    });
    expect(
      await verify(withList("content-type;host;x-amz-content-sha256"), { service: "execute-api", now: NOW }),
    ).toMatchObject({
      ok: false,
      message: "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
    });
    expect(
      await verify(withList("host;content-type;x-amz-content-sha256;x-amz-date"), {
        service: "execute-api",
        now: NOW,
      }),
    ).toMatchObject({
      ok: false,
      message: expect.stringMatching(/SignedHeaders must be distinct lower-case header names, sorted/),
    });
    const { "content-type": _ct, ...missing } = req.headers;
    expect(await verify({ ...req, headers: missing }, { service: "execute-api", now: NOW })).toMatchObject({
      ok: false,
      message: "Signed header 'content-type' is missing from the request.",
    });
  });

  it("a tampered body, query, path, method, host (port) or signed header", async () => {
    const post = await clientSigned(API, {
      body: '{"count":3}',
      headers: { "content-type": "application/json" },
    });
    const get = await clientSigned(streamUrl());
    // Signed without x-amz-content-sha256 (as curl does), so only the signature can catch it.
    const bare = await smithySigned({
      method: "POST",
      body: '{"count":3}',
      applyChecksum: false,
      date: Date.now(),
    });
    const tampered: [string, SignedRequest][] = [
      ["body", { ...bare, body: Buffer.from('{"count":4}') }],
      ["query value", { ...get, rawUrl: get.rawUrl.replace("run-1", "run-2") }],
      ["query added", { ...get, rawUrl: `${get.rawUrl}&offset=-1` }],
      ["query removed", { ...get, rawUrl: "/" }],
      ["path", { ...get, rawUrl: get.rawUrl.replace("/?", "/other?") }],
      ["method", { ...get, method: "HEAD" }],
      ["host port", { ...get, headers: { ...get.headers, host: "127.0.0.1:9999" } }],
      ["content-type", { ...post, headers: { ...post.headers, "content-type": "text/plain" } }],
    ];
    for (const [what, req] of tampered) {
      const v = await verify(req, { service: req.method === "POST" ? "execute-api" : "lambda" });
      expect(v, what).toMatchObject({ ok: false, message: expect.stringMatching(MISMATCH) });
    }
  });

  it("a body that does not match x-amz-content-sha256, and UNSIGNED-PAYLOAD (the hash is never trusted)", async () => {
    const post = await clientSigned(API, { body: '{"count":3}' });
    const swapped = { ...post, body: Buffer.from('{"count":4}') };
    expect(await verify(swapped)).toMatchObject({
      ok: false,
      message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
    });
    // smithy trusts a given x-amz-content-sha256: a client can sign UNSIGNED-PAYLOAD. We refuse it.
    const unsigned = await smithySigned({
      method: "POST",
      body: '{"a":1}',
      headers: { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" },
    });
    expect(unsigned.headers.authorization).toContain("x-amz-content-sha256");
    expect(await verify(unsigned, { service: "execute-api", now: NOW })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/'UNSIGNED-PAYLOAD' is not accepted/),
    });
  });

  it("session tokens: missing, unexpected, wrong, or not signed", async () => {
    const withToken = { ...CREDS, sessionToken: "the-right-token" };
    const plain = await clientSigned(streamUrl());
    expect(await verify(plain, { credentials: withToken })).toMatchObject({
      ok: false,
      message: "The security token included in the request is invalid.",
    });
    const tokened = await clientSigned(streamUrl(), { credentials: withToken });
    expect(await verify(tokened)).toMatchObject({
      ok: false,
      message: "The security token included in the request is invalid.",
    });
    const wrong = await clientSigned(streamUrl(), {
      credentials: { ...CREDS, sessionToken: "the-wrong-token" },
    });
    expect(await verify(wrong, { credentials: withToken })).toMatchObject({
      ok: false,
      message: "The security token included in the request is invalid.",
    });
    const unsignedToken = {
      ...plain,
      headers: { ...plain.headers, "x-amz-security-token": "the-right-token" },
    };
    expect(await verify(unsignedToken, { credentials: withToken })).toMatchObject({
      ok: false,
      message: "'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.",
    });
  });

  it("presigned URLs (query-string authentication), alone or next to an Authorization header", async () => {
    const signer = new SignatureV4({ service: "lambda", region: REGION, credentials: CREDS, sha256: Sha256 });
    const presigned = await signer.presign(
      {
        method: "GET",
        protocol: "http:",
        hostname: "127.0.0.1",
        port: 8751,
        path: "/",
        query: { executionArn: ARN },
        headers: { host: "127.0.0.1:8751" },
      },
      { signingDate: new Date(NOW), expiresIn: 300 },
    );
    const rawQuery = new URLSearchParams(presigned.query as Record<string, string>).toString();
    expect(rawQuery).toContain("X-Amz-Signature=");
    const req: SignedRequest = {
      method: "GET",
      rawUrl: `/?${rawQuery}`,
      headers: { host: "127.0.0.1:8751" },
      body: Buffer.alloc(0),
    };
    expect(await verify(req, { now: NOW })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^Query-string authentication/),
    });
    const both = await clientSigned(`${streamUrl()}&x-amz-signature=${"0".repeat(64)}`);
    expect(await verify(both)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^Query-string authentication/),
    });
  });

  it("never puts the signature or the secret in a message", async () => {
    const req = await clientSigned(streamUrl(), { credentials: { ...CREDS, secretAccessKey: "wrong" } });
    const v = await verify(req);
    const signature = /Signature=([0-9a-f]{64})/.exec(req.headers.authorization as string)?.[1] as string;
    expect(v.ok).toBe(false);
    if (!v.ok) {
      expect(v.message).not.toContain(signature);
      expect(v.message).not.toContain(CREDS.secretAccessKey);
    }
  });
});
