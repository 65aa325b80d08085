import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import {
  type CodecOptions,
  encodeOffset,
  isTerminalType,
  MAX_SEQ,
  type NewRecord,
  type RecordType,
  StepstreamError,
  TABLE_SCHEMA,
  toItem,
  writeTimeAttributes,
} from "@stepstream/results-schema";

/** What `putResult` needs to know about the table. */
export interface ResultLogConfig extends CodecOptions {
  tableName: string;
  /** Days a record is kept before the table's TTL removes it. */
  resultTtlDays: number;
  /** A DynamoDB client; defaults to one shared client per process (endpoint from the SDK's env). */
  client?: DynamoDBClient;
  /** Appends that lose a race retry up to this many times. Default 100. */
  maxAttempts?: number;
}

/** What a step writes. */
export interface PutResultInput {
  executionArn: string;
  /**
   * Idempotency key, unique within the execution: a step that runs again (Step Functions retry,
   * at-least-once Express delivery) writes the same key and gets the first record back instead of a
   * second copy. Use something the step's input determines, e.g. `result-${index}`.
   */
  recordKey: string;
  result?: unknown;
  /** `result` (default), or a terminal type: `final`, `error`, `timeout`. */
  type?: RecordType;
  error?: { Error: string; Cause: string };
}

/** The outcome of an append. */
export interface PutResultOutput {
  /** Offset of the record (the existing one when `duplicate`). */
  offset: string;
  /** True when a record with this key already existed and nothing was written. */
  duplicate: boolean;
}

let sharedClient: DynamoDBClient | undefined;
function defaultClient(): DynamoDBClient {
  sharedClient ??= new DynamoDBClient({});
  return sharedClient;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Appends one record to an execution's log, exactly once.
 *
 * The log is dense: records have sequence numbers 0, 1, 2, … with no gaps, and a record is written
 * only by a conditional `PutItem` at `head + 1`, where `head` came from a strongly consistent read.
 * Between that read and the put the writer checks (strongly consistent, on the `ByRecordKey` index)
 * that no record with its key exists. If any other append happened in between, it took `head + 1`
 * and our put fails; we read again. So a successful put proves the key check was still true at the
 * moment of the write: a key can never be written twice, and the only records a reader can ever find
 * below a record it has seen were committed before it. After a terminal record nothing more is
 * appended (`StreamClosed`).
 *
 * Validation happens before any request is sent, so nothing invalid is ever written: the result
 * must be JSON (no functions, symbols, bigints, cycles, NaN/Infinity, class instances, sparse
 * arrays) and storable (numbers within ±(2^53 - 1) and not below 1e-130, at most 32 levels deep), and the whole
 * item within DynamoDB's 400 KB — else `InvalidRecord` / `RecordTooLarge`.
 *
 * @example
 * ```ts
 * import { putResult } from "@stepstream/steps";
 * await putResult(
 *   { executionArn, recordKey: `thumbnail-${i}`, result: { url } },
 *   { tableName: process.env.TABLE_NAME!, resultTtlDays: 7 },
 * );
 * ```
 */
export async function putResult(input: PutResultInput, config: ResultLogConfig): Promise<PutResultOutput> {
  const client = config.client ?? defaultClient();
  const type = input.type ?? "result";
  const now = Date.now();
  const record: NewRecord = {
    executionArn: input.executionArn,
    recordKey: input.recordKey,
    type,
    result: input.result,
    ...(input.error ? { error: input.error } : {}),
  };
  if (typeof config.tableName !== "string" || config.tableName.length < 3) {
    throw new StepstreamError("BadRequest", "config.tableName must be the results table's name");
  }
  if (!Number.isFinite(config.resultTtlDays) || config.resultTtlDays <= 0) {
    throw new StepstreamError("BadRequest", "config.resultTtlDays must be a positive number of days");
  }
  const expiresAt = Math.floor(now / 1000) + Math.round(config.resultTtlDays * 86400);
  // Validate once, before any request. The placeholder sequence number is the largest one, so the
  // size checked is the largest this record can ever have (the real one is never longer).
  assertStorable(input.result ?? null);
  let item: ReturnType<typeof toItem>;
  try {
    item = toItem({ ...record, seq: MAX_SEQ, timestamp: now, expiresAt }, config);
  } catch (err) {
    if (err instanceof StepstreamError) throw err;
    // The schema library's own errors (e.g. a malformed `error`) become a StepstreamError too.
    throw new StepstreamError("InvalidRecord", `invalid record: ${(err as Error).message.slice(0, 300)}`);
  }
  const maxAttempts = config.maxAttempts ?? 100;

  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    const head = await readHead(client, config.tableName, input.executionArn);
    const existing = await findByKey(client, config.tableName, input.executionArn, input.recordKey);
    if (existing !== undefined) return { offset: encodeOffset(existing), duplicate: true };
    if (head && isTerminalType(head.type)) {
      throw new StepstreamError(
        "StreamClosed",
        `execution already ended with a ${head.type} record at offset ${encodeOffset(head.seq)}; nothing more can be written`,
      );
    }
    const seq = head ? head.seq + 1 : 0;
    item[TABLE_SCHEMA.sortKey] = { N: String(seq) };
    Object.assign(item, writeTimeAttributes(Date.now()));
    try {
      await client.send(
        new PutItemCommand({
          TableName: config.tableName,
          Item: item,
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": TABLE_SCHEMA.partitionKey },
        }),
      );
      return { offset: encodeOffset(seq), duplicate: false };
    } catch (err) {
      if (
        !(err instanceof ConditionalCheckFailedException) &&
        (err as Error).name !== "ConditionalCheckFailedException"
      ) {
        throw err;
      }
      // Another writer took head + 1 first: back off a little (full jitter) and read again.
      await sleep(Math.random() * Math.min(50, 2 ** attempt));
    }
  }
  throw new StepstreamError(
    "Conflict",
    `could not append after ${maxAttempts} attempts: too many concurrent writers on one execution`,
  );
}

/** DynamoDB's limit on nested attributes (maps and lists inside `Result`). */
export const MAX_RESULT_DEPTH = 32;

/**
 * What `assertJsonValue` (in the schema) lets through but the SDK or DynamoDB would refuse with an
 * unhelpful error: numbers beyond `Number.MAX_SAFE_INTEGER` (the marshaller refuses them) or below
 * DynamoDB's 1e-130, nesting deeper than DynamoDB's 32 levels, and holes in sparse arrays (JSON
 * would turn them into `null`). Iterative, so a 100 000-level value cannot overflow the stack.
 * Throws `InvalidRecord`.
 */
function assertStorable(value: unknown): void {
  const stack: [unknown, string, number][] = [[value, "Result", 0]];
  while (stack.length) {
    const [v, path, depth] = stack.pop() as [unknown, string, number];
    if (typeof v === "number") {
      const m = Math.abs(v);
      if (m > Number.MAX_SAFE_INTEGER) {
        throw new StepstreamError(
          "InvalidRecord",
          `${path} is ${v}, beyond the integers a JavaScript number holds exactly (2^53 - 1); send it as a string`,
        );
      }
      if (m !== 0 && m < 1e-130) {
        throw new StepstreamError(
          "InvalidRecord",
          `${path} is ${v}, smaller than DynamoDB can store (1e-130)`,
        );
      }
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    if (depth + 1 > MAX_RESULT_DEPTH) {
      throw new StepstreamError(
        "InvalidRecord",
        `Result is nested more than ${MAX_RESULT_DEPTH} levels deep (DynamoDB's limit), or contains a cycle`,
      );
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        if (!(i in v))
          throw new StepstreamError(
            "InvalidRecord",
            `${path}[${i}] is a hole in a sparse array, which JSON cannot carry`,
          );
        stack.push([v[i], `${path}[${i}]`, depth + 1]);
      }
    } else {
      for (const [k, x] of Object.entries(v)) stack.push([x, `${path}.${k}`, depth + 1]);
    }
  }
}

async function readHead(
  client: DynamoDBClient,
  tableName: string,
  executionArn: string,
): Promise<{ seq: number; type: RecordType } | undefined> {
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
      ConsistentRead: true,
    }),
  );
  const item = out.Items?.[0];
  if (!item) return undefined;
  return { seq: Number(item[TABLE_SCHEMA.sortKey]?.N), type: item.Type?.S as RecordType };
}

async function findByKey(
  client: DynamoDBClient,
  tableName: string,
  executionArn: string,
  recordKey: string,
): Promise<number | undefined> {
  const out = await client.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: TABLE_SCHEMA.recordKeyIndex,
      KeyConditionExpression: "#pk = :pk AND #rk = :rk",
      ExpressionAttributeNames: {
        "#pk": TABLE_SCHEMA.partitionKey,
        "#rk": TABLE_SCHEMA.recordKeyAttribute,
        "#sk": TABLE_SCHEMA.sortKey,
      },
      ExpressionAttributeValues: { ":pk": { S: executionArn }, ":rk": { S: recordKey } },
      ProjectionExpression: "#sk",
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  const item = out.Items?.[0];
  return item ? Number(item[TABLE_SCHEMA.sortKey]?.N) : undefined;
}
