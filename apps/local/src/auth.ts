import { createHash, timingSafeEqual } from "node:crypto";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

/** The credentials the local stack accepts. */
export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** The development pair used when no AWS credentials are in the environment (documented in the README). */
export const DEVELOPMENT_CREDENTIALS: LocalCredentials = {
  accessKeyId: "AKIASTEPSTREAMLOCAL1",
  secretAccessKey: "stepstream/local/development/secret/key1",
};

/** What a request looks like to the verifier: the raw request line and headers, and the body bytes. */
export interface SignedRequest {
  method: string;
  /** Path and query exactly as received (`req.url`). */
  rawUrl: string;
  /** Lower-cased header names; multi-valued headers joined with `,`. */
  headers: Record<string, string>;
  body: Buffer;
}

export type VerifyResult = { ok: true; accessKeyId: string } | { ok: false; message: string };

/** Largest clock difference AWS accepts between the signature's date and the server's. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * Verifies an AWS Signature V4 the way AWS does for `execute-api` and `lambda`: the canonical request
 * is rebuilt from the raw path, query and the signed headers (with `host` and its port), the body hash
 * is computed from the body (never taken from `x-amz-content-sha256`), the scope must name this
 * region and service, the date must be within 5 minutes, and a session token must match.
 */
export async function verifySigV4(
  req: SignedRequest,
  expected: { credentials: LocalCredentials; region: string; service: string; now?: number },
): Promise<VerifyResult> {
  const auth = req.headers.authorization;
  if (!auth) return { ok: false, message: "Missing Authentication Token: sign the request with AWS Signature V4" };
  const m = AUTH_RE.exec(auth.trim());
  if (!m) return { ok: false, message: "Authorization header is not a well-formed AWS4-HMAC-SHA256 signature" };
  const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = m as unknown as string[];
  if (accessKeyId !== expected.credentials.accessKeyId) {
    return { ok: false, message: "The security token included in the request is invalid (unknown access key)" };
  }
  if (region !== expected.region) return { ok: false, message: `Credential should be scoped to a valid region, not '${region}'` };
  if (service !== expected.service) {
    return { ok: false, message: `Credential should be scoped to correct service: '${expected.service}'` };
  }
  const amzDate = req.headers["x-amz-date"];
  const date = amzDate ? parseAmzDate(amzDate) : undefined;
  if (!date) return { ok: false, message: "X-Amz-Date header is missing or malformed" };
  if (scopeDate !== amzDate?.slice(0, 8)) return { ok: false, message: "Credential date does not match X-Amz-Date" };
  const now = expected.now ?? Date.now();
  if (Math.abs(now - date.getTime()) > MAX_CLOCK_SKEW_MS) {
    return { ok: false, message: "Signature expired: the request date is more than 5 minutes from the server time" };
  }
  const signed = (signedHeaderList as string).split(";");
  if (!signed.includes("host")) return { ok: false, message: "SignedHeaders must include host" };
  if (!signed.includes("x-amz-date")) return { ok: false, message: "SignedHeaders must include x-amz-date" };
  const token = req.headers["x-amz-security-token"];
  if (expected.credentials.sessionToken !== undefined) {
    if (token !== expected.credentials.sessionToken) return { ok: false, message: "The security token included in the request is invalid" };
    if (!signed.includes("x-amz-security-token")) return { ok: false, message: "x-amz-security-token must be signed" };
  } else if (token !== undefined) {
    return { ok: false, message: "The security token included in the request is invalid" };
  }
  const bodyHash = createHash("sha256").update(req.body).digest("hex");
  const claimed = req.headers["x-amz-content-sha256"];
  if (claimed !== undefined && claimed !== bodyHash) {
    return { ok: false, message: "The request body does not match its signed hash (x-amz-content-sha256)" };
  }
  const headers: Record<string, string> = {};
  for (const h of signed) {
    const v = req.headers[h];
    if (v === undefined) return { ok: false, message: `Signed header ${h} is missing from the request` };
    headers[h] = v;
  }
  const q = req.rawUrl.indexOf("?");
  const path = q < 0 ? req.rawUrl : req.rawUrl.slice(0, q);
  const query: Record<string, string | string[]> = {};
  try {
    for (const [k, v] of new URLSearchParams(q < 0 ? "" : req.rawUrl.slice(q + 1))) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  } catch {
    return { ok: false, message: "The request URL cannot be canonicalised" };
  }
  const { sessionToken: _omit, ...keys } = expected.credentials;
  const signer = new SignatureV4({
    service: expected.service,
    region: expected.region,
    credentials: { ...keys, ...(token !== undefined ? { sessionToken: token } : {}) },
    sha256: Sha256,
  });
  const host = headers.host ?? "";
  const resigned = await signer.sign(
    {
      method: req.method,
      protocol: "http:",
      hostname: host.replace(/:\d+$/, ""),
      path,
      query,
      headers,
      body: req.body,
    },
    { signingDate: date, signableHeaders: new Set(signed) },
  );
  const got = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers.authorization ?? ""))?.[1] ?? "";
  const a = Buffer.from(got, "hex");
  const b = Buffer.from(signature as string, "hex");
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    return {
      ok: false,
      message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    };
  }
  return { ok: true, accessKeyId: accessKeyId as string };
}
