import { request } from "node:http";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { type ResultRecord, StepstreamClient } from "@stepstream/client";
import { expect } from "vitest";
import type { LocalCredentials, LocalStack } from "../src/index.js";

// Helpers shared by the security and fuzz suites: raw HTTP (any method, path, header and body, as an
// attacker would send them, which `fetch` does not allow), SigV4 signing of such raw requests with
// `@smithy/signature-v4`, and the checks every error answer must pass.

export interface RawRequest {
  port: number;
  method: string;
  /** Path and query, sent exactly as given. */
  path: string;
  /** Header pairs, sent exactly as given (repeats allowed). `host` is added unless present. */
  headers?: [string, string][];
  body?: Buffer | string;
  /** Send the body with chunked encoding (no content-length). */
  chunked?: boolean;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends one request on its own connection and reads the whole answer. */
export function send(r: RawRequest): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const pairs = [...(r.headers ?? [])];
    if (!pairs.some(([k]) => k.toLowerCase() === "host")) pairs.unshift(["host", `127.0.0.1:${r.port}`]);
    const body = r.body === undefined ? undefined : Buffer.from(r.body);
    if (body && !r.chunked && !pairs.some(([k]) => k.toLowerCase() === "content-length")) {
      pairs.push(["content-length", String(body.length)]);
    }
    const req = request({
      host: "127.0.0.1",
      port: r.port,
      method: r.method,
      path: r.path,
      headers: pairs.flat(),
      agent: false,
      setHost: false,
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    if (body) req.end(body);
    else req.end();
  });
}

export interface SignOptions {
  service: "execute-api" | "lambda";
  region: string;
  credentials: LocalCredentials;
  port: number;
  method: string;
  /** Raw path, as it will be sent. */
  path?: string;
  /** Raw query, as it will be sent (without `?`). */
  rawQuery?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  date?: Date;
  /** Add `x-amz-content-sha256` (the client does; curl does not). Default true. */
  contentSha256?: boolean;
}

/** Signs a raw request with `@smithy/signature-v4`; returns the header pairs to send. */
export async function sign(o: SignOptions): Promise<[string, string][]> {
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(o.rawQuery ?? "")) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const host = `127.0.0.1:${o.port}`;
  const signer = new SignatureV4({
    service: o.service,
    region: o.region,
    credentials: o.credentials,
    sha256: Sha256,
    applyChecksum: o.contentSha256 ?? true,
  });
  const signed = await signer.sign(
    {
      method: o.method,
      protocol: "http:",
      hostname: "127.0.0.1",
      port: o.port,
      path: o.path ?? "/",
      query,
      headers: { host, ...o.headers },
      ...(o.body !== undefined ? { body: o.body } : {}),
    },
    { signingDate: o.date ?? new Date() },
  );
  return Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)]);
}

/** Signs and sends. `tamper` may change what is sent after signing. */
export async function sendSigned(
  o: SignOptions,
  tamper: (r: RawRequest) => RawRequest = (r) => r,
): Promise<RawResponse> {
  const headers = await sign(o);
  const path = `${o.path ?? "/"}${o.rawQuery ? `?${o.rawQuery}` : ""}`;
  return send(
    tamper({
      port: o.port,
      method: o.method,
      path,
      headers,
      ...(o.body !== undefined ? { body: o.body } : {}),
    }),
  );
}

/** Every refusal: the status, JSON `{"error":{"code","message"}}`, and nothing of a stack trace. */
export function expectJsonError(res: RawResponse, status: number, code?: string, label = ""): void {
  expect(res.status, `${label}: ${res.body.slice(0, 300)}`).toBe(status);
  expect(String(res.headers["content-type"]), label).toMatch(/^application\/json/);
  let parsed: { error?: { code?: unknown; message?: unknown } };
  try {
    parsed = JSON.parse(res.body);
  } catch {
    throw new Error(`${label}: the error body is not JSON: ${res.body.slice(0, 200)}`);
  }
  expect(Object.keys(parsed), label).toEqual(["error"]);
  expect(typeof parsed.error?.code, label).toBe("string");
  if (code) expect(parsed.error?.code, label).toBe(code);
  expect(typeof parsed.error?.message, label).toBe("string");
  expect(String(parsed.error?.message ?? "").length, label).toBeGreaterThan(0);
  expect(res.body, label).not.toMatch(/\n\s+at |\bat .*\.(?:js|ts|mjs):\d+|node:internal/);
}

/** A client signing with the stack's credentials. */
export function clientFor(stack: LocalStack): StepstreamClient {
  return new StepstreamClient({
    apiEndpoint: stack.apiEndpoint,
    streamUrl: stack.streamUrl,
    credentials: stack.credentials as LocalCredentials,
    region: stack.region,
  });
}

/** Starts a run and reads it to the end: its execution ARN, records and terminal status. */
export async function normalRun(
  stack: LocalStack,
  input: Record<string, unknown> = {},
): Promise<{ executionArn: string; records: ResultRecord[]; status: string }> {
  const run = await clientFor(stack).run(input);
  const records: ResultRecord[] = [];
  for await (const r of run) records.push(r);
  const outcome = await run.outcome;
  return { executionArn: run.executionArn, records, status: outcome.status };
}

/** Reads a finished execution again from the beginning. */
export async function readBack(stack: LocalStack, executionArn: string): Promise<ResultRecord[]> {
  const s = clientFor(stack).stream(executionArn);
  const records: ResultRecord[] = [];
  for await (const r of s) records.push(r);
  await s.outcome;
  return records;
}

/** The records a normal 5-step run yields. */
export function expectFiveResults(records: ResultRecord[]): void {
  expect(records.map((r) => r.Result)).toEqual([0, 1, 2, 3, 4].map((i) => `This is simulated result ${i}`));
  expect((records.at(-1) as Record<string, unknown>).FinalResult).toBe(true);
}
