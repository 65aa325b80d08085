import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type AttributeValue, DynamoDBClient, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { startStack } from "@stepstream/local";
import { itemSize, TABLE_SCHEMA, toItem } from "@stepstream/results-schema";
import { HeadMemory, putResult, putResults } from "@stepstream/steps";

/**
 * The writer: records/s into ONE execution, requests and capacity units per record, append latency.
 * Modes: 1, 10 and 40 concurrent single-record writers (`putResult`), one batch writer (`putResults`,
 * 50 records per call), and the AWS sample's writer (one unconditional `PutItem` per record, one
 * writer).
 *
 * What 40 Lambda containers would see: every writer has a head memory of its own (`HeadMemory`: what
 * one container remembers), so nothing but DynamoDB is shared between writers — lost races, staging
 * and combining happen as across containers. The writers run in this process; the DynamoDB emulator
 * runs in a process of its own (the local stack's `startDynamo`, via `dynamo-child.js`), as DynamoDB
 * is not on the writers' CPU on AWS.
 *
 * Requests and units are counted at the writers' client, per request sent (a cancelled transaction
 * counted as billed), as AWS bills them (Developer Guide, "Read/write capacity mode" and "Amazon
 * DynamoDB transactions"): a standard write 1 WCU per KB, each action of a transaction 2 WCU per KB of
 * its item (a Delete or ConditionCheck: its item's key, 1 KB), a strongly consistent read 1 RCU per
 * 4 KB read, an eventually consistent one 0.5 (the bytes are those returned: a projected Query is
 * billed on whole items, so a poll of small staged items is under-counted by at most its rounding).
 * After each mode the log is read back: every record once, dense offsets (`verified`).
 */
export interface WriterMode {
  mode: string;
  writers: number;
  records: number;
  recordsPerSecond: number;
  requestsPerRecord: number;
  transactionsPerRecord: number;
  readUnitsPerRecord: number;
  writeUnitsPerRecord: number;
  latencyMs: { p50: number; p99: number };
  failed: number;
  /** The log read back holds exactly `records` records, offsets 0 … records - 1, each key once. */
  verified?: boolean;
}
export interface WriterResult {
  modes: WriterMode[];
  loadAverage: number;
  /** How the writers were run (one head memory per writer; the emulator in its own process). */
  setup?: string;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN) * 10) / 10;
};

interface Tally {
  requests: number;
  transactions: number;
  readUnits: number;
  writeUnits: number;
}

/** Counts what the writers send, and the units AWS would bill for it. */
function counted(client: DynamoDBClient, tally: Tally): DynamoDBClient {
  const kb = (item: Record<string, AttributeValue> | undefined) =>
    Math.max(1, Math.ceil((item ? itemSize(item) : 0) / 1024));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      tally.requests++;
      const input = args.input as {
        TransactItems?: { Put?: { Item?: Record<string, AttributeValue> } }[];
        Item?: Record<string, AttributeValue>;
        ConsistentRead?: boolean;
      };
      if (context.commandName === "TransactWriteItemsCommand") {
        tally.transactions++;
        for (const a of input.TransactItems ?? []) tally.writeUnits += 2 * kb(a.Put?.Item);
      } else if (context.commandName === "PutItemCommand") {
        tally.writeUnits += kb(input.Item);
      }
      const out = await next(args);
      if (context.commandName === "QueryCommand") {
        const items = ((out.output as { Items?: Record<string, AttributeValue>[] }).Items ?? []) as Record<
          string,
          AttributeValue
        >[];
        const bytes = items.reduce((n, i) => n + itemSize(i), 0);
        tally.readUnits += Math.max(1, Math.ceil(bytes / 4096)) * (input.ConsistentRead ? 1 : 0.5);
      }
      return out;
    },
    { step: "initialize", name: "benchTally" },
  );
  return client;
}

/** The local stack's DynamoDB emulator in a child process; resolves its endpoint. */
async function emulatorProcess(): Promise<{ endpoint: string; close: () => Promise<void> }> {
  const child: ChildProcess = fork(fileURLToPath(new URL("./dynamo-child.js", import.meta.url)), [], {
    env: { ...process.env, BENCH_DYNAMO_OPTIONS: JSON.stringify({ accounting: false }) },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error("the DynamoDB emulator did not start within 60 s")),
      60_000,
    );
    child.on("message", (m: { type?: string; endpoint?: string; message?: string }) => {
      if (m.type === "emulator-ready" && m.endpoint) {
        clearTimeout(timer);
        resolve(m.endpoint);
      } else if (m.type === "error") {
        clearTimeout(timer);
        reject(new Error(`the DynamoDB emulator failed to start: ${m.message}`));
      }
    });
  });
  return {
    endpoint,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.send({ type: "close" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function runWriter(params: {
  records: number;
  loadAverage: () => number;
}): Promise<WriterResult> {
  const emulator = await emulatorProcess();
  const stack = await startStack({
    port: 0,
    outputsFile: null,
    auth: false,
    dynamoEndpoint: emulator.endpoint,
  });
  const tally: Tally = { requests: 0, transactions: 0, readUnits: 0, writeUnits: 0 };
  const client = counted(new DynamoDBClient({ region: stack.region, endpoint: emulator.endpoint }), tally);
  const reader = new DynamoDBClient({ region: stack.region, endpoint: emulator.endpoint });
  const modes: WriterMode[] = [];
  let n = 0;
  const arn = () =>
    `arn:aws:states:${stack.region}:${stack.account}:express:stepstream-local:bench-writer-${Date.now()}-${n++}:0`;
  try {
    const run = async (
      mode: string,
      writers: number,
      records: number,
      write: (executionArn: string, i: number, w: number) => Promise<number>,
    ) => {
      const executionArn = arn();
      const before = { ...tally };
      const latencies: number[] = [];
      let next = 0;
      let failed = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          while (next < records) {
            const i = next;
            next = i + (mode === "batch" ? 50 : 1);
            const t = performance.now();
            try {
              const k = await write(executionArn, i, w);
              const ms = performance.now() - t;
              for (let j = 0; j < k; j++) latencies.push(ms);
            } catch {
              failed++;
            }
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      const d = (k: keyof Tally) => tally[k] - before[k];
      const per = (x: number, digits: number) => Math.round((x / records) * 10 ** digits) / 10 ** digits;
      modes.push({
        mode,
        writers,
        records,
        recordsPerSecond: Math.round(records / seconds),
        requestsPerRecord: per(d("requests"), 3),
        transactionsPerRecord: per(d("transactions"), 3),
        readUnitsPerRecord: per(d("readUnits"), 3),
        writeUnitsPerRecord: per(d("writeUnits"), 2),
        latencyMs: { p50: pct(latencies, 0.5), p99: pct(latencies, 0.99) },
        failed,
        verified: await verify(reader, stack.tableName, executionArn, records),
      });
      const m = modes[modes.length - 1] as WriterMode;
      process.stderr.write(
        `  ${mode.padEnd(10)} ${String(writers).padStart(2)} writer(s): ${m.recordsPerSecond} records/s, ${m.requestsPerRecord} requests, ${m.readUnitsPerRecord} RCU, ${m.writeUnitsPerRecord} WCU per record; p50 ${m.latencyMs.p50} ms p99 ${m.latencyMs.p99} ms; failed ${failed}; verified ${m.verified}\n`,
      );
    };
    const config = { tableName: stack.tableName, resultTtlDays: 1, client };
    for (const w of [1, 10, 40]) {
      // One head memory per writer: what one Lambda container remembers.
      const memories = Array.from({ length: w }, () => new HeadMemory());
      await run("single", w, params.records, async (executionArn, i, k) => {
        await putResult(
          { executionArn, recordKey: `r-${i}`, result: `result ${i}` },
          { ...config, headMemory: memories[k] as HeadMemory },
        );
        return 1;
      });
    }
    const batchMemory = new HeadMemory();
    await run("batch", 1, params.records * 5, async (executionArn, i) => {
      const k = 50;
      await putResults(
        Array.from({ length: k }, (_, j) => ({
          executionArn,
          recordKey: `r-${i + j}`,
          result: `result ${i + j}`,
        })),
        { ...config, headMemory: batchMemory },
      );
      return k;
    });
    await run("sample", 1, params.records, async (executionArn, i) => {
      const item = toItem(
        {
          executionArn,
          recordKey: `r-${i}`,
          type: "result",
          result: `result ${i}`,
          seq: i,
          timestamp: Date.now(),
          expiresAt: 0,
        },
        {},
      );
      await client.send(new PutItemCommand({ TableName: stack.tableName, Item: item }));
      return 1;
    });
  } finally {
    client.destroy();
    reader.destroy();
    await stack.close();
    await emulator.close();
  }
  return {
    modes,
    loadAverage: params.loadAverage(),
    setup:
      "writers in one process, each with a head memory of its own (one Lambda container each); the DynamoDB emulator in its own process",
  };
}

/** The execution's log holds `records` records at offsets 0 … records - 1, each key once. */
async function verify(client: DynamoDBClient, tableName: string, executionArn: string, records: number) {
  const seqs: number[] = [];
  const keys = new Set<string>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "#pk = :pk",
        ExpressionAttributeNames: { "#pk": TABLE_SCHEMA.partitionKey },
        ExpressionAttributeValues: { ":pk": { S: executionArn } },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      seqs.push(Number(item[TABLE_SCHEMA.sortKey]?.N));
      keys.add(item[TABLE_SCHEMA.recordKeyAttribute]?.S ?? "");
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return seqs.length === records && keys.size === records && seqs.every((s, i) => s === i);
}

/** The writer table, as Markdown. */
export function writerTable(r: WriterResult): string {
  const rows = r.modes.map(
    (m) =>
      `| ${m.mode === "sample" ? "AWS sample: one PutItem" : m.mode === "batch" ? "putResults (50 per call)" : "putResult"} | ${m.writers} | ${m.recordsPerSecond.toLocaleString("en-US")} | ${m.requestsPerRecord} | ${m.readUnitsPerRecord} | ${m.writeUnitsPerRecord} | ${m.latencyMs.p50} | ${m.latencyMs.p99} | ${m.failed} |`,
  );
  return [
    `Writer, into one execution (load average ${r.loadAverage.toFixed(2)}${r.setup ? `; ${r.setup}` : ""}):`,
    "",
    "| writer | concurrent | records/s | requests / record | read units / record | write units / record | append p50 (ms) | append p99 (ms) | failed |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n");
}
