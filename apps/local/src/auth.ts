import { createHash, createHmac, timingSafeEqual } from "node:crypto";

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
  /**
   * Lower-cased header names; a header sent more than once has its values joined with `,` (each value
   * trimmed), as SigV4 canonicalises them. `flatHeaders` in `http.ts` builds this from a request.
   */
  headers: Record<string, string>;
  body: Buffer;
}

export type VerifyResult =
  | { ok: true; accessKeyId: string }
  | {
      ok: false;
      /** What is wrong, worded like AWS's own messages. Never contains the signature or a secret. */
      message: string;
      /** The canonical request we computed, when it got that far (for debugging and tests; never logged). */
      canonicalRequest?: string;
    };

export interface VerifyOptions {
  credentials: LocalCredentials;
  region: string;
  service: string;
  /** The server's clock (ms since the epoch). Default `Date.now()`. */
  now?: number;
}

/** Largest clock difference AWS accepts between the signature's date and the server's, either way. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

const ALGORITHM = "AWS4-HMAC-SHA256";
/** Query parameters that make a request a presigned (query-string authenticated) one. */
const PRESIGN_PARAMS = new Set([
  "x-amz-signature",
  "x-amz-credential",
  "x-amz-algorithm",
  "x-amz-signedheaders",
]);
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * RFC 3986 encoding as SigV4 defines it: every byte except the unreserved characters
 * `A-Z a-z 0-9 - _ . ~` becomes `%XY` with upper-case hex.
 */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The canonical URI of a request for every service but S3: the raw path (as sent, so already
 * percent-encoded once) with empty and `.`/`..` segments removed, then each segment URI-encoded
 * again. This is the "encode twice" rule: `/a%20b` is signed as `/a%2520b`.
 */
export function canonicalUri(rawPath: string): string {
  const segments: string[] = [];
  for (const s of rawPath.split("/")) {
    if (s === "" || s === ".") continue;
    if (s === "..") segments.pop();
    else segments.push(s);
  }
  if (segments.length === 0) return "/";
  return `/${segments.map(uriEncode).join("/")}${rawPath.endsWith("/") ? "/" : ""}`;
}

/**
 * The canonical query string, from the raw query: each `name=value` pair decoded exactly as the
 * handlers decode it (`URLSearchParams`: `+` is a space, malformed `%` escapes stay literal), then
 * URI-encoded, sorted by name and, for a repeated name, by value; a name without `=` has an empty
 * value. Canonicalising from the decoded form means a signature covers exactly what the handler sees.
 */
export function canonicalQuery(rawQuery: string): string {
  const pairs: [string, string][] = [];
  for (const [k, v] of new URLSearchParams(rawQuery)) pairs.push([uriEncode(k), uriEncode(v)]);
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join("&");
}

/**
 * A header value as SigV4 signs it: leading and trailing blanks removed, runs of blanks made one
 * space (a header sent more than once arrives here already joined with `,`, see `flatHeaders`).
 */
export function canonicalHeaderValue(value: string): string {
  return value.replace(/[ \t]+/g, " ").trim();
}

function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const d = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  // Date.UTC rolls 2024-02-30 over to March; a real timestamp round-trips.
  if (Number.isNaN(d.getTime()) || amzDate(d) !== s) return undefined;
  return d;
}

const amzDate = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data, "utf8").digest();
const sha256Hex = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

type ParsedAuthorization =
  | {
      ok: true;
      accessKeyId: string;
      scopeDate: string;
      region: string;
      service: string;
      terminator: string;
      signedHeaders: string;
      signature: string;
    }
  | { ok: false; message: string };

/** Parses `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` (components in any order). */
function parseAuthorization(header: string): ParsedAuthorization {
  const value = header.trim();
  const space = value.indexOf(" ");
  const algorithm = space < 0 ? value : value.slice(0, space);
  if (algorithm !== ALGORITHM) {
    return {
      ok: false,
      message: `Unsupported Authorization scheme: only ${ALGORITHM} (Signature Version 4) is accepted`,
    };
  }
  const parts = new Map<string, string>();
  for (const piece of value.slice(space + 1).split(",")) {
    const p = piece.trim();
    const eq = p.indexOf("=");
    const name = eq < 0 ? p : p.slice(0, eq);
    if (!["Credential", "SignedHeaders", "Signature"].includes(name) || parts.has(name) || eq < 0) {
      return {
        ok: false,
        message: `Authorization header is malformed: unexpected or repeated component '${name.slice(0, 32)}'`,
      };
    }
    parts.set(name, p.slice(eq + 1));
  }
  const missing = ["Credential", "SignedHeaders", "Signature"].filter((n) => !parts.get(n));
  if (missing.length) {
    return {
      ok: false,
      message: missing.map((n) => `Authorization header requires '${n}' parameter.`).join(" "),
    };
  }
  const credential = (parts.get("Credential") as string).split("/");
  if (credential.length !== 5 || credential.some((c) => c === "")) {
    return {
      ok: false,
      message:
        "Authorization header is malformed: Credential must be <access key id>/<yyyyMMdd>/<region>/<service>/aws4_request",
    };
  }
  const [accessKeyId, scopeDate, region, service, terminator] = credential as [
    string,
    string,
    string,
    string,
    string,
  ];
  const signature = parts.get("Signature") as string;
  if (!/^[0-9a-f]{64}$/.test(signature)) {
    return {
      ok: false,
      message: "Authorization header is malformed: Signature must be 64 lower-case hexadecimal digits",
    };
  }
  return {
    ok: true,
    accessKeyId,
    scopeDate,
    region,
    service,
    terminator,
    signedHeaders: parts.get("SignedHeaders") as string,
    signature,
  };
}

/**
 * Verifies an AWS Signature Version 4 (header authentication) the way AWS does for `execute-api`
 * and `lambda`, and answers with a message worded like AWS's when it fails:
 *
 * - the `Authorization` header is `AWS4-HMAC-SHA256` with a credential scoped to this access key,
 *   region, service and `aws4_request`, and the scope's date is the day of `X-Amz-Date`;
 * - `X-Amz-Date` is within 5 minutes of the server's clock, in the past or the future;
 * - the signed headers include `host` (with its port, as sent) and `x-amz-date`, and every signed
 *   header is present; a session token must match the expected one and be signed;
 * - the payload hash is computed from the body itself; an `x-amz-content-sha256` header must equal
 *   it (`UNSIGNED-PAYLOAD` and streaming payloads are refused);
 * - the canonical request is rebuilt from the raw path (each segment encoded twice, as for every
 *   service but S3), the raw query (decoded, re-encoded, sorted) and the signed headers (values
 *   trimmed, blanks folded, repeated headers joined with `,`), and the HMAC is compared in constant
 *   time.
 *
 * Presigned URLs (query-string authentication, `X-Amz-Signature` in the query) are refused: sign
 * the `Authorization` header instead.
 *
 * @example
 * ```ts
 * const v = await verifySigV4(
 *   { method: "GET", rawUrl: req.url, headers: flatHeaders(req), body },
 *   { credentials, region: "us-east-1", service: "lambda" },
 * );
 * if (!v.ok) sendError(res, "Forbidden", v.message, 403);
 * ```
 */
export async function verifySigV4(req: SignedRequest, expected: VerifyOptions): Promise<VerifyResult> {
  const fail = (message: string, canonicalRequest?: string): VerifyResult => ({
    ok: false,
    message,
    ...(canonicalRequest !== undefined ? { canonicalRequest } : {}),
  });
  const q = req.rawUrl.indexOf("?");
  const rawPath = q < 0 ? req.rawUrl : req.rawUrl.slice(0, q);
  const rawQuery = q < 0 ? "" : req.rawUrl.slice(q + 1);
  for (const key of new URLSearchParams(rawQuery).keys()) {
    if (PRESIGN_PARAMS.has(key.toLowerCase())) {
      return fail(
        "Query-string authentication (a presigned URL with X-Amz-Signature) is not accepted: sign the request with an AWS4-HMAC-SHA256 Authorization header",
      );
    }
  }

  const auth = req.headers.authorization;
  if (auth === undefined || auth.trim() === "") {
    return fail(
      "Missing Authentication Token: sign the request with AWS Signature Version 4 (an Authorization header)",
    );
  }
  if (auth.split(ALGORITHM).length > 2) return fail("Only one Authorization header may be sent.");
  const a = parseAuthorization(auth);
  if (!a.ok) return fail(a.message);
  if (!sameText(a.accessKeyId, expected.credentials.accessKeyId)) {
    return fail("The security token included in the request is invalid.");
  }
  if (a.terminator !== "aws4_request") {
    return fail(
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${a.terminator.slice(0, 32)}'.`,
    );
  }
  if (a.region !== expected.region) {
    return fail(`Credential should be scoped to a valid region, not '${a.region.slice(0, 32)}'.`);
  }
  if (a.service !== expected.service) {
    return fail(`Credential should be scoped to correct service: '${expected.service}'.`);
  }

  const signed = a.signedHeaders.split(";");
  const sorted = [...new Set(signed)].sort();
  if (signed.some((h) => !HEADER_NAME.test(h)) || sorted.join(";") !== a.signedHeaders) {
    return fail(
      "Authorization header is malformed: SignedHeaders must be distinct lower-case header names, sorted and separated by ';'",
    );
  }
  if (!signed.includes("host")) return fail("'Host' must be a 'SignedHeader' in the AWS Authorization.");
  const rawDate = req.headers["x-amz-date"];
  if (rawDate === undefined) return fail("Authorization header requires existence of a 'X-Amz-Date' header.");
  if (!signed.includes("x-amz-date"))
    return fail("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  const date = parseAmzDate(rawDate.trim());
  if (!date) return fail("X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'.");
  const longDate = rawDate.trim();
  if (a.scopeDate !== longDate.slice(0, 8)) {
    return fail(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${a.scopeDate.slice(0, 16)}' != '${longDate.slice(0, 8)}', from '${longDate}'.`,
    );
  }
  const now = expected.now ?? Date.now();
  if (date.getTime() < now - MAX_CLOCK_SKEW_MS) {
    return fail(
      `Signature expired: ${longDate} is now earlier than ${amzDate(new Date(now - MAX_CLOCK_SKEW_MS))} (${amzDate(new Date(now))} - 5 min.)`,
    );
  }
  if (date.getTime() > now + MAX_CLOCK_SKEW_MS) {
    return fail(
      `Signature not yet current: ${longDate} is still later than ${amzDate(new Date(now + MAX_CLOCK_SKEW_MS))} (${amzDate(new Date(now))} + 5 min.)`,
    );
  }

  const token = req.headers["x-amz-security-token"];
  if (expected.credentials.sessionToken !== undefined || token !== undefined) {
    if (
      token === undefined ||
      expected.credentials.sessionToken === undefined ||
      !sameText(token, expected.credentials.sessionToken)
    ) {
      return fail("The security token included in the request is invalid.");
    }
    if (!signed.includes("x-amz-security-token"))
      return fail("'X-Amz-Security-Token' must be a 'SignedHeader' in the AWS Authorization.");
  }

  const bodyHash = sha256Hex(req.body);
  const claimed = req.headers["x-amz-content-sha256"];
  if (claimed !== undefined) {
    if (claimed === "UNSIGNED-PAYLOAD" || claimed.startsWith("STREAMING-")) {
      return fail(
        `x-amz-content-sha256 '${claimed.slice(0, 48)}' is not accepted here: sign the SHA-256 of the request body`,
      );
    }
    if (claimed !== bodyHash)
      return fail("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }

  const canonicalHeaders: string[] = [];
  for (const h of signed) {
    const v = req.headers[h];
    if (v === undefined) return fail(`Signed header '${h.slice(0, 64)}' is missing from the request.`);
    canonicalHeaders.push(`${h}:${canonicalHeaderValue(v)}\n`);
  }
  const canonicalRequest = [
    req.method,
    canonicalUri(rawPath),
    canonicalQuery(rawQuery),
    canonicalHeaders.join(""),
    a.signedHeaders,
    bodyHash,
  ].join("\n");
  const scope = `${a.scopeDate}/${a.region}/${a.service}/aws4_request`;
  const stringToSign = `${ALGORITHM}\n${longDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const kDate = hmac(`AWS4${expected.credentials.secretAccessKey}`, a.scopeDate);
  const kSigning = hmac(hmac(hmac(kDate, a.region), a.service), "aws4_request");
  const computed = hmac(kSigning, stringToSign);
  if (!timingSafeEqual(computed, Buffer.from(a.signature, "hex"))) {
    return fail(
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
      canonicalRequest,
    );
  }
  return { ok: true, accessKeyId: a.accessKeyId };
}
