// The baseline reader (the AWS sample's algorithm) behind a loopback HTTP server that streams JSON
// Lines, in its own process, reading the local stack's DynamoDB with requests marked
// `stepstream-bench/baseline` so the front door can tell them from ours.
import { createServer } from "node:http";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DEVELOPMENT_CREDENTIALS } from "@stepstream/local";
import { sampleStream } from "./baseline/sample-reader.js";
import { TAG_PREFIX } from "./door.js";

const endpoint = process.env.BENCH_DYNAMO_ENDPOINT ?? "";
const tableName = process.env.BENCH_TABLE_NAME ?? "";
const pollMs = Number(process.env.BENCH_POLL_MS ?? 2000);
/** The sample's Lambda could run 15 minutes at most. */
const MAX_STREAM_MS = 15 * 60_000;

const client = new DynamoDBClient({
  region: "us-east-1",
  endpoint,
  credentials: DEVELOPMENT_CREDENTIALS,
  customUserAgent: `${TAG_PREFIX}baseline`,
});

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const executionArn = url.searchParams.get("executionArn");
  if (!executionArn) {
    res.writeHead(400, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: "BadRequest", message: "executionArn is required" } }));
    return;
  }
  res.writeHead(200, { "content-type": "text/plain" });
  res.flushHeaders();
  const stop = new AbortController();
  const deadline = setTimeout(() => stop.abort(), MAX_STREAM_MS);
  res.on("close", () => stop.abort());
  sampleStream({
    client,
    tableName,
    executionArn,
    pollMs,
    write: (line) => res.write(line),
    signal: stop.signal,
  })
    .catch((err) => console.error(`baseline reader: ${(err as Error).message}`))
    .finally(() => {
      clearTimeout(deadline);
      res.end();
    });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  const port = typeof a === "object" && a ? a.port : 0;
  process.send?.({ type: "ready", url: `http://127.0.0.1:${port}/` });
});
const shutdown = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on("SIGTERM", shutdown);
process.on("disconnect", shutdown);
