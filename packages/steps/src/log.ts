import { type AttributeValue, type DynamoDBClient, QueryCommand } from "@aws-sdk/client-dynamodb";
import { type RecordType, TABLE_SCHEMA } from "@stepstream/results-schema";

// The pieces of the append path that the fast path (put-result.ts) and the combining path
// (combine.ts) share: DynamoDB's limits, back-off, remembered heads and the two reads.

/**
 * Back-off under contention, in units of this process's recent transaction round trip (an EWMA): a
 * writer that lost waits a random fraction of `rtt * 2^n` (n = times lost in a row, capped), so the
 * writers of one execution spread out instead of all racing for every slot at once.
 */
let rttEwmaMs = 5;
/** Feeds one transaction round trip (ms) into the back-off's EWMA. */
export function noteRoundTrip(ms: number): void {
  rttEwmaMs = 0.8 * rttEwmaMs + 0.2 * Math.max(1, ms);
}
const BACKOFF_MAX_EXP = 5;
/** No single wait under contention is longer than this, however slow the round trips have become. */
const BACKOFF_MAX_MS = 200;
export const backoff = (n: number) =>
  Math.random() * Math.min(BACKOFF_MAX_MS, rttEwmaMs * 2 ** Math.min(Math.max(n, 0), BACKOFF_MAX_EXP));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * Back-off after throttling (or a transient server error), the `busy`-th in a row: exponential with
 * full jitter, 25 ms doubling, at most 2 s.
 */
export const throttleBackoff = (busy: number) => Math.random() * Math.min(2000, 25 * 2 ** busy);

/**
 * DynamoDB's limits that shape an append (Developer Guide, "Quotas in Amazon DynamoDB" and
 * "Amazon DynamoDB transactions"; API reference, TransactWriteItems):
 * - a `TransactWriteItems` groups at most 100 actions, no two on one item, at most 4 MB in all; each
 *   record takes two actions (the record and its key item), so one transaction carries 50 records;
 * - a partition key value is at most 2048 bytes (the key item's partition key holds the ARN and the key);
 * - transactional writes cost twice a standard write: 2 WCU per KB of each item, so a small record
 *   costs 4 WCU (record + key item) and no read unit.
 */
export const MAX_TRANSACTION_ACTIONS = 100;
export const MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;
/** Records one `putResults` transaction carries: two actions per record. */
export const MAX_RECORDS_PER_TRANSACTION = MAX_TRANSACTION_ACTIONS / 2;
export const MAX_PARTITION_KEY_BYTES = 2048;

/** Where the key item of `recordKey` lives: its own partition, which no execution ARN can name. */
export function keyItemPartition(executionArn: string, recordKey: string): string {
  return `${TABLE_SCHEMA.keyItemPrefix}${executionArn}#${recordKey}`;
}

/**
 * The highest sequence number seen committed, per execution (and its type). A head is only ever one
 * that was committed (read, written by us, or returned by a failed condition), so appending at
 * head + 1 can never leave a gap; a stale head costs one lost race, never a wrong write. Also which
 * executions were contended a moment ago (their next append stages at once). By default one per
 * process (a Lambda container); pass your own as `headMemory` to model separate containers.
 *
 * @example
 * ```ts
 * import { HeadMemory, putResult } from "@stepstream/steps";
 * const container = new HeadMemory(); // what one Lambda container would remember
 * await putResult({ executionArn, recordKey: "r-1", result: 1 }, { tableName, resultTtlDays: 7, headMemory: container });
 * ```
 */
export class HeadMemory {
  static readonly MAX_REMEMBERED = 512;
  readonly #heads = new Map<string, Head>();
  get(executionArn: string): Head | undefined {
    return this.#heads.get(executionArn);
  }
  remember(executionArn: string, head: Head | undefined): void {
    if (!head) return;
    const known = this.#heads.get(executionArn);
    if (known && known.seq >= head.seq) return;
    this.#heads.delete(executionArn);
    this.#heads.set(executionArn, head);
    if (this.#heads.size > HeadMemory.MAX_REMEMBERED)
      this.#heads.delete(this.#heads.keys().next().value as string);
  }
  clear(): void {
    this.#heads.clear();
    this.#contended.clear();
  }
  /**
   * Executions this memory saw contended (a lost race, or other writers' staged records) in the last
   * `CONTENDED_MS`, and not seen alone since: their next append stages at once instead of racing
   * first (combine.ts), so the combiners' slots are not taken from under them by racers.
   */
  static readonly CONTENDED_MS = 5000;
  readonly #contended = new Map<string, number>();
  markContended(executionArn: string): void {
    this.#contended.delete(executionArn);
    this.#contended.set(executionArn, Date.now() + HeadMemory.CONTENDED_MS);
    if (this.#contended.size > HeadMemory.MAX_REMEMBERED)
      this.#contended.delete(this.#contended.keys().next().value as string);
  }
  markAlone(executionArn: string): void {
    this.#contended.delete(executionArn);
  }
  isContended(executionArn: string): boolean {
    const until = this.#contended.get(executionArn);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#contended.delete(executionArn);
    return false;
  }
}
/** A committed record: its sequence number and type. */
export interface Head {
  seq: number;
  type: RecordType;
}
export const processHeads = new HeadMemory();
/** Forgets every remembered head (for tests that reuse an execution ARN against fresh mocks). */
export function forgetRememberedHeads(): void {
  processHeads.clear();
}
export const later = (a: Head | undefined, b: Head | undefined) => (!a ? b : !b ? a : b.seq > a.seq ? b : a);

/** Errors that mean "slow down and try again" (AWS SDK error-handling guidance for DynamoDB). */
export const RETRYABLE = new Set([
  "ProvisionedThroughputExceededException",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TransactionConflictException",
  "TransactionInProgressException",
  "InternalServerError",
  "ServiceUnavailable",
]);

export interface Prepared {
  index: number;
  recordKey: string;
  type: RecordType;
  item: Record<string, AttributeValue>;
  keyItem: Record<string, AttributeValue>;
  bytes: number;
}

/**
 * The head of the log: the highest `Seq` and its type, by an eventually consistent Query (half a read
 * unit for a small record). A stale answer is still a committed record, so at worst the append that
 * follows loses one race; correctness rests on the conditional write, not on this read.
 */
export async function readHead(
  client: DynamoDBClient,
  tableName: string,
  executionArn: string,
): Promise<Head | undefined> {
  const out = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "#pk = :pk",
      ExpressionAttributeNames: {
        "#pk": TABLE_SCHEMA.partitionKey,
        "#sk": TABLE_SCHEMA.sortKey,
        "#t": "Type",
      },
      ExpressionAttributeValues: { ":pk": { S: executionArn } },
      ProjectionExpression: "#sk, #t",
      ScanIndexForward: false,
      Limit: 1,
    }),
  );
  const item = out.Items?.[0];
  if (!item) return undefined;
  return { seq: Number(item[TABLE_SCHEMA.sortKey]?.N), type: item.Type?.S as RecordType };
}

/**
 * The record that holds `recordKey`, from its key item (strongly consistent): its `Seq`, and the stage
 * id it was appended from when a combiner appended it.
 */
export async function findKey(
  client: DynamoDBClient,
  tableName: string,
  executionArn: string,
  recordKey: string,
): Promise<{ seq: number; stagedBy?: string } | undefined> {
  const out = await client.send(
    new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: "#pk = :pk",
      ExpressionAttributeNames: { "#pk": TABLE_SCHEMA.partitionKey },
      ExpressionAttributeValues: { ":pk": { S: keyItemPartition(executionArn, recordKey) } },
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  const item = out.Items?.[0];
  const n = item?.[TABLE_SCHEMA.keyItemSeqAttribute]?.N;
  if (n === undefined) return undefined;
  const by = item?.[TABLE_SCHEMA.keyItemStagedByAttribute]?.N;
  return by === undefined ? { seq: Number(n) } : { seq: Number(n), stagedBy: by };
}
