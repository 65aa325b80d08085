import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { startStack } from "@stepstream/local";
import { toItem } from "@stepstream/results-schema";
import { putResult, putResults } from "@stepstream/steps";

/**
 * The writer: records/s into ONE execution, requests and capacity units per record, append latency.
 * Modes: 1, 10 and 40 concurrent single-record writers (`putResult`), one batch writer (`putResults`,
 * 50 records per call), and the AWS sample's writer (one unconditional `PutItem` per record, one
 * writer). Requests are counted at the emulator's front door; units are computed as AWS bills them
 * (Developer Guide, "Read/write capacity mode" and "Amazon DynamoDB transactions": a standard write
 * 1 WCU per KB, a transactional write 2 WCU per KB of each item, a failed transaction's writes
 * counted too, an eventually consistent read 0.5 RCU per 4 KB, a consistent one 1 RCU). The records
 * are small (< 1 KB), so each item written is one KB unit. Runs in the bench process with its own
 * in-memory stack (nothing else runs at the same time).
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
}
export interface WriterResult {
  modes: WriterMode[];
  loadAverage: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN) * 10) / 10;
};

export async function runWriter(params: {
  records: number;
  loadAverage: () => number;
}): Promise<WriterResult> {
  const stack = await startStack({ memory: true, port: 0, outputsFile: null, auth: false });
  const client = new DynamoDBClient({ region: stack.region, endpoint: stack.dynamoEndpoint });
  const config = { tableName: stack.tableName, resultTtlDays: 1, client };
  const modes: WriterMode[] = [];
  let n = 0;
  const arn = () =>
    `arn:aws:states:${stack.region}:${stack.account}:express:stepstream-local:bench-writer-${n++}:0`;
  try {
    const run = async (
      mode: string,
      writers: number,
      records: number,
      write: (executionArn: string, i: number) => Promise<number>,
    ) => {
      const executionArn = arn();
      const before = { ...stack.dynamoCounts };
      const latencies: number[] = [];
      let next = 0;
      let failed = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: writers }, async () => {
          while (next < records) {
            const i = next;
            const t = performance.now();
            try {
              const k = await write(executionArn, i);
              next = Math.max(next, i + k);
              const ms = performance.now() - t;
              for (let j = 0; j < k; j++) latencies.push(ms);
            } catch {
              failed++;
              next = Math.max(next, i + 1);
            }
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;
      const d = (op: string) => (stack.dynamoCounts[op] ?? 0) - (before[op] ?? 0);
      const requests = Object.keys(stack.dynamoCounts).reduce((s, op) => s + d(op), 0);
      const queries = d("Query");
      const txs = d("TransactWriteItems");
      const puts = d("PutItem");
      // Transactions: 2 items per record, 2 WCU each; a batch of k records = 2k items.
      const itemsPerTx = mode === "batch" ? 2 * Math.min(50, records) : 2;
      const writeUnits = txs * itemsPerTx * 2 + puts;
      modes.push({
        mode,
        writers,
        records,
        recordsPerSecond: Math.round(records / seconds),
        requestsPerRecord: Math.round((requests / records) * 1000) / 1000,
        transactionsPerRecord: Math.round((txs / records) * 1000) / 1000,
        readUnitsPerRecord: Math.round(((queries * 0.5) / records) * 1000) / 1000,
        writeUnitsPerRecord: Math.round((writeUnits / records) * 100) / 100,
        latencyMs: { p50: pct(latencies, 0.5), p99: pct(latencies, 0.99) },
        failed,
      });
      const m = modes[modes.length - 1] as WriterMode;
      process.stderr.write(
        `  ${mode.padEnd(10)} ${String(writers).padStart(2)} writer(s): ${m.recordsPerSecond} records/s, ${m.requestsPerRecord} requests, ${m.readUnitsPerRecord} RCU, ${m.writeUnitsPerRecord} WCU per record; p50 ${m.latencyMs.p50} ms p99 ${m.latencyMs.p99} ms; failed ${failed}\n`,
      );
    };
    const single = async (executionArn: string, i: number) => {
      await putResult({ executionArn, recordKey: `r-${i}`, result: `result ${i}` }, config);
      return 1;
    };
    for (const w of [1, 10, 40]) await run("single", w, params.records, single);
    await run("batch", 1, params.records * 5, async (executionArn, i) => {
      const k = 50;
      await putResults(
        Array.from({ length: k }, (_, j) => ({
          executionArn,
          recordKey: `r-${i + j}`,
          result: `result ${i + j}`,
        })),
        config,
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
    await stack.close();
  }
  return { modes, loadAverage: params.loadAverage() };
}

/** The writer table, as Markdown. */
export function writerTable(r: WriterResult): string {
  const rows = r.modes.map(
    (m) =>
      `| ${m.mode === "sample" ? "AWS sample: one PutItem" : m.mode === "batch" ? "putResults (50 per call)" : "putResult"} | ${m.writers} | ${m.recordsPerSecond.toLocaleString("en-US")} | ${m.requestsPerRecord} | ${m.readUnitsPerRecord} | ${m.writeUnitsPerRecord} | ${m.latencyMs.p50} | ${m.latencyMs.p99} | ${m.failed} |`,
  );
  return [
    `Writer, into one execution (load average ${r.loadAverage.toFixed(2)}):`,
    "",
    "| writer | concurrent | records/s | requests / record | read units / record | write units / record | append p50 (ms) | append p99 (ms) | failed |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
  ].join("\n");
}
