import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { type Credentials, signRequest } from "@stepstream/client";

/** The built web view (`vite build` writes it next to this module's directory). */
export const WEB_STATIC_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../public");

/** Largest start body the proxy forwards (the API's own limit). */
const MAX_BODY_BYTES = 256 * 1024;

/** Response headers of the stream URL that the browser needs. */
const FORWARDED_STREAM_HEADERS = [
  "content-type",
  "cache-control",
  "stream-next-offset",
  "stream-up-to-date",
  "stream-cursor",
  "stream-closed",
  "etag",
];

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy":
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
};

export interface WebFrontEndOptions {
  /** Port to listen on (0: any free port). Binds 127.0.0.1 only. */
  port: number;
  /** The start API (`api_endpoint`). */
  apiEndpoint: string;
  /** The streaming Function URL (`stream_url`). */
  streamUrl: string;
  /** Credentials the proxy signs with (SigV4); `null` forwards unsigned. They never reach the browser. */
  credentials: Credentials | null;
  region: string;
  /** Directory of the built web view. Default `WEB_STATIC_DIR`. */
  staticDir?: string;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface WebFrontEnd {
  url: string;
  port: number;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "cache-control": "no-store",
  });
  res.end(body);
}

/** Answers with the stack's one error format. Returns nothing, so handlers can `return fail(…)`. */
function fail(res: ServerResponse, status: number, code: string, message: string): undefined {
  json(res, status, { error: { code, message } });
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        resolvePromise(null);
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolvePromise(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * A browser's request is same-origin when it says nothing (`curl`, old browsers) or names this host.
 * Starting executions from another site's page (CSRF against a local server) is refused.
 */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin)
    return req.headers["sec-fetch-site"] === undefined || req.headers["sec-fetch-site"] === "same-origin";
  return origin === `http://${req.headers.host}`;
}

/**
 * The web view's front end: serves the built app and proxies two routes, signing each request with
 * SigV4 server-side so the browser holds no secret:
 *
 * - `POST /api/start` → `POST <apiEndpoint>` (the answer's stream URLs are rewritten to `/api/stream`);
 * - `GET|HEAD /api/stream?…` → the stream URL with the same query, streamed through chunk by chunk.
 *
 * The local stack starts it (`make local` prints its URL); it can front a deployed stack as well.
 *
 * @example
 * ```ts
 * const web = await startWebFrontEnd({ port: 0, apiEndpoint, streamUrl, credentials, region: "us-east-1" });
 * console.log(web.url); // http://127.0.0.1:<port>/
 * ```
 */
export async function startWebFrontEnd(o: WebFrontEndOptions): Promise<WebFrontEnd> {
  const staticDir = resolve(o.staticDir ?? WEB_STATIC_DIR);
  const sign = async (
    url: URL,
    method: string,
    service: "execute-api" | "lambda",
    headers: Record<string, string>,
    body?: string,
  ) =>
    o.credentials
      ? {
          ...headers,
          ...(await signRequest({
            url,
            method,
            headers,
            ...(body !== undefined ? { body } : {}),
            service,
            region: o.region,
            credentials: o.credentials,
          })),
        }
      : headers;

  async function start(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!sameOrigin(req))
      return fail(res, 403, "Forbidden", "cross-origin requests may not start executions");
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body === null)
      return fail(res, 413, "PayloadTooLarge", `request body is larger than ${MAX_BODY_BYTES} bytes`);
    const text = body.toString("utf8");
    const url = new URL(o.apiEndpoint);
    const headers = await sign(url, "POST", "execute-api", { "content-type": "application/json" }, text);
    const upstream = await fetch(url, { method: "POST", headers, body: text });
    const answer = await upstream.text();
    let value: unknown;
    try {
      value = JSON.parse(answer);
    } catch {
      return fail(
        res,
        502,
        "BadGateway",
        `the API answered HTTP ${upstream.status} with a body that is not JSON`,
      );
    }
    const w = (value as { workflow?: Record<string, unknown> }).workflow;
    if (upstream.ok && w && typeof w.executionArn === "string") {
      const proxied = `http://${req.headers.host}/api/stream`;
      w.lambdaResultURL = proxied;
      w.completeLambdaResultURL = `${proxied}?executionArn=${encodeURIComponent(w.executionArn)}`;
    }
    json(res, upstream.status, value);
  }

  async function stream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const incoming = new URL(req.url ?? "/", "http://proxy");
    const url = new URL(o.streamUrl);
    url.search = incoming.search;
    const method = req.method === "HEAD" ? "HEAD" : "GET";
    const pass: Record<string, string> = {};
    for (const h of ["accept", "last-event-id"]) {
      const v = req.headers[h];
      if (typeof v === "string") pass[h] = v;
    }
    const headers = await sign(url, method, "lambda", pass);
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    let upstream: Response;
    try {
      upstream = await fetch(url, { method, headers, signal: abort.signal });
    } catch (err) {
      if (abort.signal.aborted) return;
      return fail(res, 502, "BadGateway", `the stream URL could not be reached: ${(err as Error).message}`);
    }
    const out: Record<string, string> = { "x-accel-buffering": "no" };
    for (const h of FORWARDED_STREAM_HEADERS) {
      const v = upstream.headers.get(h);
      if (v !== null) out[h] = v;
    }
    res.writeHead(upstream.status, out);
    res.flushHeaders();
    if (!upstream.body || method === "HEAD") {
      res.end();
      return;
    }
    const reader = upstream.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        res.write(value);
      }
      res.end();
    } catch {
      // The browser went away (abort) or the stream URL cut the connection: end ours the same way.
      res.destroy();
    }
  }

  function serveStatic(req: IncomingMessage, res: ServerResponse): undefined {
    if (req.method !== "GET" && req.method !== "HEAD")
      return fail(res, 405, "MethodNotAllowed", "static files: GET only");
    const index = join(staticDir, "index.html");
    if (!existsSync(index)) {
      return fail(res, 503, "NotBuilt", `the web view is not built (${index} is missing): run make build`);
    }
    const pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    let file = normalize(join(staticDir, pathname));
    if (file !== staticDir && !file.startsWith(staticDir + sep))
      return fail(res, 404, "NotFound", "no such file");
    const isFile = existsSync(file) && statSync(file).isFile();
    if (!isFile) {
      // Client-side routes and `/` get the app; a missing asset is a 404.
      if (extname(pathname)) return fail(res, 404, "NotFound", "no such file");
      file = index;
    }
    const immutable = file.startsWith(join(staticDir, "assets") + sep);
    res.writeHead(200, {
      "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": String(statSync(file).size),
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-store",
      ...SECURITY_HEADERS,
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    createReadStream(file).pipe(res);
  }

  const server = createServer(async (req, res) => {
    res.socket?.setNoDelay(true);
    const path = (req.url ?? "/").split("?")[0];
    try {
      if (path === "/api/start") {
        if (req.method !== "POST")
          return fail(res, 405, "MethodNotAllowed", "POST /api/start starts a workflow");
        return await start(req, res);
      }
      if (path === "/api/stream") {
        if (req.method !== "GET" && req.method !== "HEAD")
          return fail(res, 405, "MethodNotAllowed", "GET /api/stream");
        return await stream(req, res);
      }
      if (path?.startsWith("/api/"))
        return fail(res, 404, "NotFound", "no such API route: /api/start, /api/stream");
      serveStatic(req, res);
    } catch (err) {
      o.log?.("web front end: request failed", { path, error: (err as Error).message });
      if (res.headersSent) res.destroy();
      else fail(res, 502, "BadGateway", "the request could not be proxied");
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolvePromise, reject) => {
    server.once("error", reject);
    server.listen(o.port, "127.0.0.1", () => resolvePromise());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : o.port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    close: () =>
      new Promise<void>((resolvePromise) => {
        server.closeAllConnections?.();
        server.close(() => resolvePromise());
      }),
  };
}
