import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";

/** AWS credentials (as the AWS SDK names them). */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Credentials, or a function that returns them (called before each request, so they can refresh). */
export type CredentialSource = Credentials | (() => Promise<Credentials>);

/**
 * The region a stepstream URL belongs to: `…execute-api.<region>.amazonaws.com`,
 * `…lambda-url.<region>.on.aws`, otherwise `fallback`.
 */
export function regionOf(url: URL, fallback: string): string {
  const m = /\.(?:execute-api|lambda-url)\.([a-z0-9-]+)\.(?:amazonaws\.com|on\.aws)$/.exec(url.hostname);
  return m?.[1] ?? fallback;
}

/**
 * Signs a request with AWS Signature V4 and returns the headers to send. The body is hashed here
 * (`x-amz-content-sha256`), `host` carries the port when there is one.
 */
export async function signRequest(args: {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
  service: "execute-api" | "lambda";
  region: string;
  credentials: CredentialSource;
}): Promise<Record<string, string>> {
  const credentials = typeof args.credentials === "function" ? await args.credentials() : args.credentials;
  const signer = new SignatureV4({ service: args.service, region: args.region, credentials, sha256: Sha256 });
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of args.url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  const hash = new Sha256();
  hash.update(args.body ?? "");
  const digest = await hash.digest();
  const bodyHash = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  const signed = await signer.sign({
    method: args.method,
    protocol: args.url.protocol,
    hostname: args.url.hostname,
    ...(args.url.port ? { port: Number(args.url.port) } : {}),
    path: args.url.pathname,
    query,
    headers: { ...args.headers, host: args.url.host, "x-amz-content-sha256": bodyHash },
    ...(args.body !== undefined ? { body: args.body } : {}),
  });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) if (k !== "host") out[k] = String(v);
  return out;
}
