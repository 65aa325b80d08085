import { connect, createServer, type Server, type Socket } from "node:net";
import { type AttributeValue, type DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import { type Credentials, type ResultRecord, StepstreamClient, signRequest } from "@stepstream/client";
import { executionNameFor, TABLE_SCHEMA } from "@stepstream/results-schema";
import type { LocalStack } from "../src/index.js";

/** A client of the stack, signing with its credentials. */
export function clientOf(stack: LocalStack, streamUrl = stack.streamUrl): StepstreamClient {
  return new StepstreamClient({
    apiEndpoint: stack.apiEndpoint,
    streamUrl,
    credentials: stack.credentials as Credentials,
    region: stack.region,
    reconnectDelayMs: 20,
  });
}

/**
 * An execution ARN of the stack's state machine, named as the start API names executions (the start
 * time in the name), so that it is a stream from the start, before any record exists.
 */
export const executionArnOf = (stack: LocalStack, name: string) =>
  `arn:aws:states:${stack.region}:${stack.account}:express:stepstream-local:${executionNameFor(Date.now(), name)}:00000000-0000-0000-0000-000000000000`;

/** Every item of one partition of the stack's table (`pk`), by consistent Queries, page by page. */
export async function partitionItems(stack: LocalStack, ddb: DynamoDBClient, pk: string) {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": TABLE_SCHEMA.partitionKey },
        ExpressionAttributeValues: { ":pk": { S: pk } },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** A signed raw HTTP request to one of the stack's front ends. */
export async function signedFetch(
  stack: LocalStack,
  url: string,
  init: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const u = new URL(url);
  const method = init.method ?? "GET";
  const service = url.startsWith(stack.apiEndpoint) ? "execute-api" : "lambda";
  const headers = await signRequest({
    url: u,
    method,
    headers: init.headers ?? {},
    ...(init.body !== undefined ? { body: init.body } : {}),
    service,
    region: stack.region,
    credentials: stack.credentials as Credentials,
  });
  return fetch(u, { method, headers, ...(init.body !== undefined ? { body: init.body } : {}) });
}

/** Starts a run through the API with a raw signed POST; returns the API's `workflow` object. */
export async function startRun(
  stack: LocalStack,
  input: unknown = {},
): Promise<{
  executionArn: string;
  lambdaResultURL: string;
  completeLambdaResultURL: string;
  startDate: string;
}> {
  const res = await signedFetch(stack, stack.apiEndpoint, {
    method: "POST",
    body: JSON.stringify(input),
    headers: { "content-type": "application/json" },
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`start answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { workflow: never }).workflow;
}

/** GETs a stream URL and returns the JSON Lines it sent (heartbeat lines dropped). */
export async function readLines(stack: LocalStack, url: string): Promise<ResultRecord[]> {
  const res = await signedFetch(stack, url);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`stream answered ${res.status}: ${text}`);
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as ResultRecord);
}

/** Reads a whole execution with the client: the data records and the outcome. */
export async function readAll(client: StepstreamClient, executionArn: string, from?: string) {
  const s = client.stream(executionArn, from ? { from } : {});
  const records: ResultRecord[] = [];
  for await (const r of s) records.push(r);
  return { records, outcome: await s.outcome };
}

/**
 * A TCP proxy in front of a front end that cuts a connection after `cutAfterBytes(n)` bytes of
 * response (per connection number n; `undefined` = never): a dropped connection, as a client meets it.
 */
export async function startCuttingProxy(
  target: string,
  cutAfterBytes: (connection: number) => number | undefined,
): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
  const t = new URL(target);
  let n = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const limit = cutAfterBytes(n++);
    const upstream = connect(Number(t.port), t.hostname);
    sockets.add(client);
    sockets.add(upstream);
    let sent = 0;
    client.on("data", (d) => upstream.write(d));
    upstream.on("data", (d: Buffer) => {
      if (limit !== undefined && sent + d.length >= limit) {
        client.write(d.subarray(0, Math.max(0, limit - sent)));
        client.destroy();
        upstream.destroy();
        return;
      }
      sent += d.length;
      client.write(d);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", end);
    upstream.on("error", end);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    connections: () => n,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** A small seeded PRNG (mulberry32) so random scenarios can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const expectedResults = (n: number) =>
  Array.from({ length: n }, (_, i) => `This is simulated result ${i}`);
