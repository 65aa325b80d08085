import type { Server } from "node:http";
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from "@aws-sdk/client-dynamodb";
import { TABLE_SCHEMA } from "@stepstream/results-schema";
import dynalite from "dynalite";
import { dynaliteWithTransactions } from "./dynamo-transactions.js";
import { listenOnLoopback } from "./http.js";

/** Requests seen at the emulator's front door, by DynamoDB operation (`Query`, `PutItem`, …). */
export type OperationCounts = Record<string, number>;

export interface DynamoEmulator {
  endpoint: string;
  port: number;
  counts: OperationCounts;
  close(): Promise<void>;
}

/**
 * Starts `dynalite`, a DynamoDB wire-protocol server: in memory, or on disk under `path` so results
 * survive a restart. Every request is counted by operation (the `X-Amz-Target` header).
 */
export async function startDynamo(options: { port: number; path?: string }): Promise<DynamoEmulator> {
  // dynalite plus TransactWriteItems, which the writer appends with (see dynamo-transactions.ts).
  const server: Server = dynaliteWithTransactions(dynalite, {
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  const counts: OperationCounts = {};
  server.prependListener("request", (req) => {
    const op = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "unknown";
    counts[op] = (counts[op] ?? 0) + 1;
  });
  const { port, close } = await listenOnLoopback(server, options.port);
  server.keepAliveTimeout = 60_000;
  return { endpoint: `http://127.0.0.1:${port}`, port, counts, close };
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
