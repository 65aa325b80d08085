import type { Server } from "node:http";
import { createRequire } from "node:module";
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from "@aws-sdk/client-dynamodb";
import { TABLE_SCHEMA } from "@stepstream/results-schema";
import dynalite from "dynalite";
import { prepareDataDir } from "./data-dir.js";
import { dynaliteWithTransactions } from "./dynamo-transactions.js";
import { listenOnLoopback } from "./http.js";

/** Requests seen at the emulator's front door, by DynamoDB operation (`Query`, `PutItem`, …). */
export type OperationCounts = Record<string, number>;

export interface DynamoEmulator {
  endpoint: string;
  port: number;
  counts: OperationCounts;
  /**
   * The last time the store failed a request (a `500`: a full or read-only disk, a closed
   * database), or `undefined`. Cleared by `markHealthy` once a probe write succeeds.
   */
  storeFailure(): { at: number } | undefined;
  markHealthy(): void;
  /** Database iterators open right now in this process's LevelDB stores (a leak check: a Query must close its own). */
  openIterators(): number;
  close(): Promise<void>;
}

/**
 * Starts `dynalite`, a DynamoDB wire-protocol server: in memory, or on disk under `path` so results
 * survive a restart. Every request is counted by operation (the `X-Amz-Target` header).
 */
export async function startDynamo(options: { port: number; path?: string }): Promise<DynamoEmulator> {
  // A directory the store cannot use is one clear error (path, cause, fix), not "Database is closed".
  if (options.path) await prepareDataDir(options.path);
  // dynalite plus TransactWriteItems, which the writer appends with (see dynamo-transactions.ts).
  const server: Server = dynaliteWithTransactions(dynalite, {
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const counts: OperationCounts = {};
  let failure: { at: number } | undefined;
  server.prependListener("request", (req, res) => {
    const op = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "unknown";
    counts[op] = (counts[op] ?? 0) + 1;
    res.once("finish", () => {
      if (res.statusCode >= 500) failure = { at: Date.now() };
    });
  });
  const { port, close } = await listenOnLoopback(server, options.port);
  server.keepAliveTimeout = 60_000;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    counts,
    openIterators: countOpenIterators(),
    storeFailure: () => failure,
    markHealthy: () => {
      failure = undefined;
    },
    close,
  };
}

/**
 * A DynamoDB that runs elsewhere (another process's {@link startDynamo}), seen through the same
 * interface: nothing counted or probed here, nothing to close.
 */
export function externalDynamo(endpoint: string): DynamoEmulator {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(`the DynamoDB endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`the DynamoDB endpoint must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  }
  return {
    endpoint: url.origin,
    port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
    counts: {},
    storeFailure: () => undefined,
    markHealthy: () => undefined,
    openIterators: () => 0,
    close: async () => undefined,
  };
}

let openIterators: (() => number) | undefined;

/**
 * Counts the iterators dynalite's LevelDB stores hold open, by watching abstract-level's
 * `attachResource` / `detachResource` (every iterator attaches itself when created and detaches when
 * closed). Installed once per process, on the one abstract-level copy dynalite's `level` and
 * `memory-level` share.
 */
function countOpenIterators(): () => number {
  if (openIterators) return openIterators;
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve("dynalite"));
  const { MemoryLevel } = fromDynalite("memory-level") as { MemoryLevel: { prototype: object } };
  const proto = Object.getPrototypeOf(MemoryLevel.prototype) as {
    attachResource(r: object): void;
    detachResource(r: object): void;
  };
  const open = new Set<object>();
  const attach = proto.attachResource;
  const detach = proto.detachResource;
  proto.attachResource = function (r: object) {
    if (/Iterator/.test(r.constructor?.name ?? "")) open.add(r);
    return attach.call(this, r);
  };
  proto.detachResource = function (r: object) {
    open.delete(r);
    return detach.call(this, r);
  };
  openIterators = () => open.size;
  return openIterators;
}

/**
 * Creates the results table with the keys of `@stepstream/results-schema` (the same as Terraform's
 * table module), unless it exists.
 */
export async function ensureResultsTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (err) {
    if ((err as Error).name !== "ResourceNotFoundException") throw err;
  }
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
          { AttributeName: TABLE_SCHEMA.partitionKey, AttributeType: "S" },
          { AttributeName: TABLE_SCHEMA.sortKey, AttributeType: "N" },
          { AttributeName: TABLE_SCHEMA.recordKeyAttribute, AttributeType: "S" },
        ],
        KeySchema: [
          { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: "HASH" },
          { AttributeName: TABLE_SCHEMA.sortKey, KeyType: "RANGE" },
        ],
        LocalSecondaryIndexes: [
          {
            IndexName: TABLE_SCHEMA.recordKeyIndex,
            KeySchema: [
              { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: "HASH" },
              { AttributeName: TABLE_SCHEMA.recordKeyAttribute, KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "KEYS_ONLY" },
          },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
}
