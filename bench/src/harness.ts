import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { BatchWriteItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { StepstreamClient } from "@stepstream/client";
import { DEVELOPMENT_CREDENTIALS } from "@stepstream/local";
import { executionNameFor, type RecordType, toItem } from "@stepstream/results-schema";
import { putResult, simulatedResult, stepRecordKey } from "@stepstream/steps";
import { epochNow, TAG_PREFIX } from "./door.js";
import type { StackInfo } from "./protocol.js";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const now = () => performance.now();

/**
 * An execution ARN of the stack's state machine, named as the start API names executions (its start
 * time, now, in the name: `executionNameFor`, so the streamer knows the just-started execution before
 * its first record) with `<group>--<n>` in the id for per-group accounting.
 */
export function executionArnFor(stack: StackInfo, group: string, n: number): string {
  const [, partition, , region, account, , name] = stack.stateMachineArn.split(":");
  const id = randomUUID();
  const execution = executionNameFor(Date.now(), `${group}--${n}-${id.slice(0, 8)}`);
  return `arn:${partition}:states:${region}:${account}:express:${name}:${execution}:${id}`;
}

/** A DynamoDB client for the stack's emulator whose requests carry the bench mark `tag`. */
export function dynamoClient(stack: StackInfo, tag: string): DynamoDBClient {
  return new DynamoDBClient({
    region: stack.region,
    endpoint: stack.dynamoEndpoint,
    credentials: DEVELOPMENT_CREDENTIALS,
    customUserAgent: `${TAG_PREFIX}${tag}`,
  });
}

/** The shape of record `k` of `count`: the simulated workflow's results, the last one final. */
export function recordOf(k: number, count: number): { recordKey: string; result: string; type: RecordType } {
  return {
    recordKey: stepRecordKey(k),
    result: simulatedResult(k),
    type: k === count - 1 ? "final" : "result",
  };
}

/**
 * Appends records with `putResult` (the shipped writer: conditional append, exactly once), and
 * remembers when each write succeeded, by `<executionArn>|<offset>`.
 */
export class Writer {
  readonly writtenAt = new Map<string, number>();
  errors = 0;
  private readonly client: DynamoDBClient;

  constructor(
    private readonly stack: StackInfo,
    tag = "writer",
  ) {
    this.client = dynamoClient(stack, tag);
  }

  async write(executionArn: string, k: number, count: number): Promise<string> {
    const r = recordOf(k, count);
    try {
      const out = await putResult(
        { executionArn, recordKey: r.recordKey, result: r.result, type: r.type },
        { tableName: this.stack.tableName, resultTtlDays: 1, client: this.client },
      );
      this.writtenAt.set(`${executionArn}|${out.offset}`, epochNow());
      return out.offset;
    } catch (err) {
      this.errors++;
      throw err;
    }
  }

  /**
   * Writes `count` records to an execution at once, as `putResult` would have (the same items, from
   * the same codec), with `BatchWriteItem`: to seed long logs quickly (replay, idle cost).
   */
  async seed(executionArn: string, count: number, options: { final: boolean }): Promise<void> {
    const t = Date.now();
    const items = Array.from({ length: count }, (_, seq) => {
      const r = recordOf(seq, options.final ? count : count + 1);
      return toItem({
        executionArn,
        recordKey: r.recordKey,
        type: r.type,
        result: r.result,
        seq,
        timestamp: t,
        expiresAt: Math.floor(t / 1000) + 86_400,
      });
    });
    for (let i = 0; i < items.length; i += 25) {
      let batch = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; batch.length > 0; attempt++) {
        if (attempt >= 20) throw new Error("BatchWriteItem kept returning unprocessed items");
        const out = await this.client.send(
          new BatchWriteItemCommand({ RequestItems: { [this.stack.tableName]: batch } }),
        );
        batch = (out.UnprocessedItems?.[this.stack.tableName] ?? []) as typeof batch;
        if (batch.length) await sleep(10 * (attempt + 1));
      }
    }
  }

  close(): void {
    this.client.destroy();
  }
}

/** What one reader saw of one execution. */
export interface StreamResult {
  executionArn: string;
  records: number;
  duplicates: number;
  reconnects: number;
  status?: string;
  error?: string;
  /** When the terminal record was parsed (performance.now()). */
  endedAt?: number;
}

/** Records parse times, by `<executionArn>|<offset>`, for one reader. */
export class Reader {
  readonly parsedAt = new Map<string, number>();
  readonly results: StreamResult[] = [];
  private readonly client: StepstreamClient;

  constructor(
    readonly name: string,
    private readonly url: string,
    stack: StackInfo,
    options: { sign: boolean },
  ) {
    this.client = new StepstreamClient({
      apiEndpoint: stack.apiEndpoint,
      streamUrl: url,
      credentials: options.sign ? DEVELOPMENT_CREDENTIALS : null,
      region: stack.region,
    });
  }

  /**
   * Streams an execution with `StepstreamClient.stream` until its terminal record; `onRecord` sees each
   * record as soon as the client has parsed it.
   */
  async consume(
    executionArn: string,
    signal?: AbortSignal,
    onRecord?: (offset: string, at: number) => void,
  ): Promise<StreamResult> {
    const r: StreamResult = { executionArn, records: 0, duplicates: 0, reconnects: 0 };
    const stream = this.client.stream(
      executionArn,
      {
        ...(signal ? { signal } : {}),
        onReconnect: () => {
          r.reconnects++;
        },
      },
      this.url,
    );
    try {
      for await (const record of stream) {
        const at = epochNow();
        const key = `${executionArn}|${record.Offset}`;
        if (this.parsedAt.has(key)) r.duplicates++;
        else this.parsedAt.set(key, at);
        r.records++;
        onRecord?.(record.Offset, at);
      }
      const outcome = await stream.outcome;
      r.status = outcome.status;
      r.endedAt = now();
    } catch (err) {
      r.error = (err as Error).message;
    }
    this.results.push(r);
    return r;
  }
}

/**
 * Latencies (ms) of every record a reader parsed: parse time minus the moment the write succeeded —
 * DynamoDB's acknowledgement at the emulator's front door where `acks` has it, else the moment
 * `putResult` resolved in the writer. Also how far the writer's own view lagged the acknowledgement.
 */
export function latencies(
  writer: Writer,
  reader: Reader,
  acks?: Map<string, number>,
): { values: number[]; missing: number; early: number; fromAcks: number; writerLagMs: number[] } {
  const values: number[] = [];
  const writerLagMs: number[] = [];
  let missing = 0;
  let early = 0;
  let fromAcks = 0;
  for (const [key, resolved] of writer.writtenAt) {
    const ack = acks?.get(key);
    if (ack !== undefined) {
      fromAcks++;
      writerLagMs.push(resolved - ack);
    }
    const written = ack ?? resolved;
    const parsed = reader.parsedAt.get(key);
    if (parsed === undefined) {
      missing++;
      continue;
    }
    // A line cannot be parsed before its write was acknowledged, give or take the clocks' skew: 0.
    if (parsed < written) early++;
    values.push(Math.max(0, parsed - written));
  }
  return { values, missing, early, fromAcks, writerLagMs };
}

/** Runs `tasks` with at most `limit` in flight. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await task(items[i] as T, i);
    }
  });
  await Promise.all(workers);
}

/** Waits until `done()` or `timeoutMs`, checking every `everyMs`; true when done. */
export async function waitFor(done: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) return false;
    await sleep(everyMs);
  }
  return true;
}

/** A progress line on stderr, rewritten in place on a terminal. */
export function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K  ${message}`);
  else process.stderr.write(`  ${message}\n`);
}

export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[2K");
}
