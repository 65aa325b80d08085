import {
  type AttributeValue,
  DynamoDBClient,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import {
  type CodecOptions,
  encodeOffset,
  isTerminalType,
  itemSize,
  MAX_SEQ,
  type NewRecord,
  type RecordType,
  StepstreamError,
  TABLE_SCHEMA,
  toItem,
  writeTimeAttributes,
} from "@stepstream/results-schema";
import { type AppendContext, closed, conflict, markerCheck, stageAndCombine, stageable } from "./combine.js";
import {
  backoff,
  findKey,
  type Head,
  type HeadMemory,
  keyItemPartition,
  later,
  MAX_PARTITION_KEY_BYTES,
  MAX_RECORDS_PER_TRANSACTION,
  MAX_TRANSACTION_ACTIONS,
  MAX_TRANSACTION_BYTES,
  noteRoundTrip,
  type Prepared,
  processHeads,
  RETRYABLE,
  readHead,
  sleep,
  throttleBackoff,
} from "./log.js";

export {
  forgetRememberedHeads,
  HeadMemory,
  keyItemPartition,
  MAX_RECORDS_PER_TRANSACTION,
  MAX_TRANSACTION_ACTIONS,
  MAX_TRANSACTION_BYTES,
} from "./log.js";

/** What `putResult` needs to know about the table. */
export interface ResultLogConfig extends CodecOptions {
  tableName: string;
  /** Days a record is kept before the table's TTL removes it. */
  resultTtlDays: number;
  /** A DynamoDB client; defaults to one shared client per process (endpoint from the SDK's env). */
  client?: DynamoDBClient;
  /**
   * How long an append keeps retrying lost races, transaction conflicts and throttling, in ms, with
   * jittered back-off. Default 60 000 (a step Lambda's timeout should be longer). Then `Conflict`.
   */
  retryForMs?: number;
  /** An optional cap on attempts as well (default: none, the time bound alone). */
  maxAttempts?: number;
  /**
   * Where appends remember each execution's head (the last record seen committed). Default: one
   * memory per process, i.e. per warm Lambda container. Give each simulated container its own
   * (`new HeadMemory()`) to measure what separate containers would see.
   */
  headMemory?: HeadMemory;
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

/**
 * Appends one record to an execution's log, exactly once, in one round trip in the common case.
 *
 * The log is dense: records have sequence numbers 0, 1, 2, … with no gaps. A record is written by one
 * `TransactWriteItems` of two puts, both `attribute_not_exists`: the record at `head + 1`, where
 * `head` is a record this process has seen committed (remembered from its last append, else one
 * eventually consistent read), and a key item named by `(executionArn, recordKey)`. So the slot
 * condition keeps the log dense and ordered, and the key condition, checked by the same atomic write,
 * keeps each key to one record: no separate consistent read. A lost race returns the winner (its
 * offset becomes the new head); a taken key returns the existing record's offset (`duplicate`).
 * Lost races, transaction conflicts and throttling are retried with jittered back-off for
 * `retryForMs`. After a terminal record nothing more is appended (`StreamClosed`). The full argument:
 * `packages/results-schema/README.md`.
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
  const [out] = await putResults([input], config);
  return out as PutResultOutput;
}

/**
 * Appends one producer's records to an execution's log, in the order given, each exactly once: one
 * `TransactWriteItems` per 50 records (DynamoDB's 100 actions per transaction, two per record) or per
 * 4 MB, with the guarantees of {@link putResult}. The records get consecutive offsets unless another
 * writer's records land between two transactions. A key written before (a retried batch) returns its
 * existing offset with `duplicate: true`, the others are appended; a key given twice is written once.
 * Only the last record may be terminal. All records must belong to one execution.
 *
 * @returns one outcome per input, in input order.
 *
 * @example
 * ```ts
 * import { putResults } from "@stepstream/steps";
 * const tokens = ["Hel", "lo", "!"];
 * await putResults(
 *   tokens.map((t, i) => ({ executionArn, recordKey: `token-${i}`, result: t })),
 *   { tableName: process.env.TABLE_NAME!, resultTtlDays: 7 },
 * ); // → [{ offset, duplicate }, …]
 * ```
 */
export async function putResults(
  inputs: readonly PutResultInput[],
  config: ResultLogConfig,
): Promise<PutResultOutput[]> {
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new StepstreamError("BadRequest", "putResults needs at least one record");
  }
  if (typeof config.tableName !== "string" || config.tableName.length < 3) {
    throw new StepstreamError("BadRequest", "config.tableName must be the results table's name");
  }
  if (!Number.isFinite(config.resultTtlDays) || config.resultTtlDays <= 0) {
    throw new StepstreamError("BadRequest", "config.resultTtlDays must be a positive number of days");
  }
  const executionArn = inputs[0]?.executionArn as string;
  const now = Date.now();
  const expiresAt = Math.floor(now / 1000) + Math.round(config.resultTtlDays * 86400);
  const prepared: Prepared[] = [];
  const firstOfKey = new Map<string, number>();
  const sameAs: number[] = [];
  for (const [index, input] of inputs.entries()) {
    if (input.executionArn !== executionArn) {
      throw new StepstreamError(
        "BadRequest",
        "putResults appends to one execution: every executionArn must be the same",
      );
    }
    const type = input.type ?? "result";
    if (isTerminalType(type) && index !== inputs.length - 1) {
      throw new StepstreamError(
        "BadRequest",
        `only the last record may be terminal (record ${index} is ${type})`,
      );
    }
    const p = prepare(input, type, now, expiresAt, config);
    const first = firstOfKey.get(p.recordKey);
    if (first !== undefined) {
      sameAs[index] = first;
      continue;
    }
    firstOfKey.set(p.recordKey, index);
    prepared.push({ ...p, index });
  }
  const client = config.client ?? defaultClient();
  const out: PutResultOutput[] = new Array(inputs.length);
  await append(client, config, executionArn, prepared, out);
  for (const [i, first] of sameAs.entries()) {
    if (first === undefined) continue;
    out[i] = { offset: (out[first] as PutResultOutput).offset, duplicate: true };
  }
  return out;
}

function prepare(
  input: PutResultInput,
  type: RecordType,
  now: number,
  expiresAt: number,
  config: ResultLogConfig,
): Omit<Prepared, "index"> {
  const record: NewRecord = {
    executionArn: input.executionArn,
    recordKey: input.recordKey,
    type,
    result: input.result,
    ...(input.error ? { error: input.error } : {}),
  };
  // Validate once, before any request. The placeholder sequence number is the largest one, so the
  // size checked is the largest this record can ever have (the real one is never longer).
  assertStorable(input.result ?? null);
  let item: Record<string, AttributeValue>;
  try {
    item = toItem({ ...record, seq: MAX_SEQ, timestamp: now, expiresAt }, config);
  } catch (err) {
    if (err instanceof StepstreamError) throw err;
    // The schema library's own errors (e.g. a malformed `error`) become a StepstreamError too.
    throw new StepstreamError("InvalidRecord", `invalid record: ${(err as Error).message.slice(0, 300)}`);
  }
  const keyPartition = keyItemPartition(input.executionArn, input.recordKey);
  if (Buffer.byteLength(keyPartition) > MAX_PARTITION_KEY_BYTES) {
    throw new StepstreamError(
      "InvalidRecord",
      `executionArn and recordKey together are too long for the key item (DynamoDB's ${MAX_PARTITION_KEY_BYTES}-byte partition key limit)`,
    );
  }
  const keyItem: Record<string, AttributeValue> = {
    [TABLE_SCHEMA.partitionKey]: { S: keyPartition },
    [TABLE_SCHEMA.sortKey]: { N: "0" },
    [TABLE_SCHEMA.keyItemSeqAttribute]: { N: "0" },
    [TABLE_SCHEMA.ttlAttribute]: { N: String(expiresAt) },
  };
  return { recordKey: input.recordKey, type, item, keyItem, bytes: itemSize(item) + itemSize(keyItem) + 16 };
}

interface Reason {
  Code?: string;
  Item?: Record<string, AttributeValue>;
}

/** The append loop: writes `records` (distinct keys, in order) and fills `out`. */
async function append(
  client: DynamoDBClient,
  config: ResultLogConfig,
  executionArn: string,
  records: Prepared[],
  out: PutResultOutput[],
): Promise<void> {
  const started = Date.now();
  const deadline = started + (config.retryForMs ?? 60_000);
  const maxAttempts = config.maxAttempts ?? Number.POSITIVE_INFINITY;
  const memory = config.headMemory ?? processHeads;
  const ctx: AppendContext = {
    client,
    tableName: config.tableName,
    executionArn,
    memory,
    started,
    deadline,
    maxAttempts,
    attempts: 0,
  };
  let pending = records;
  let head = memory.get(executionArn) ?? (await readHead(client, config.tableName, executionArn));
  let lost = 0; // consecutive lost races
  let busy = 0; // consecutive conflicts and throttles
  while (pending.length) {
    if (head && isTerminalType(head.type)) {
      // The log is closed, so the set of keys is final: a consistent look-up of each key decides.
      for (const r of pending) {
        const seq = (await findKey(client, config.tableName, executionArn, r.recordKey))?.seq;
        if (seq === undefined) throw closed(head);
        out[r.index] = { offset: encodeOffset(seq), duplicate: true };
      }
      return;
    }
    if (memory.isContended(executionArn)) {
      // This execution's writers were racing a moment ago: stage at once, skip the race.
      const staged = stageable(executionArn, pending);
      if (staged.length) {
        head = await stageAndCombine(ctx, staged, head, out);
        pending = pending.filter((r) => !staged.includes(r));
        continue;
      }
    }
    const chunk = takeChunk(pending);
    const base = head ? head.seq + 1 : 0;
    const stamp = writeTimeAttributes(Date.now());
    const actions: TransactWriteItem[] = chunk.flatMap((r, i) => {
      r.item[TABLE_SCHEMA.sortKey] = { N: String(base + i) };
      Object.assign(r.item, stamp);
      r.keyItem[TABLE_SCHEMA.keyItemSeqAttribute] = { N: String(base + i) };
      return [
        {
          Put: {
            TableName: config.tableName,
            Item: r.item,
            ConditionExpression: "attribute_not_exists(#pk)",
            ExpressionAttributeNames: { "#pk": TABLE_SCHEMA.partitionKey },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
          },
        },
        {
          Put: {
            TableName: config.tableName,
            Item: r.keyItem,
            ConditionExpression: "attribute_not_exists(#pk)",
            ExpressionAttributeNames: { "#pk": TABLE_SCHEMA.partitionKey },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const,
          },
        },
      ];
    });
    // While writers are staging (combine.ts), racing them for slots would starve the combiner: a
    // short transaction beats a long one to the next slot every time. So a stageable append checks
    // that no staging is going on (the staging marker is absent) in the same transaction, and
    // stages if it is. (A full 50-record batch has no room for the check, and is a combiner itself.)
    const checksMarker =
      actions.length < MAX_TRANSACTION_ACTIONS && stageable(executionArn, chunk).length === chunk.length;
    if (checksMarker) actions.push(markerCheck(config.tableName, executionArn));
    ctx.attempts++;
    const sent = Date.now();
    try {
      await client.send(new TransactWriteItemsCommand({ TransactItems: actions }));
      noteRoundTrip(Date.now() - sent);
      chunk.forEach((r, i) => {
        out[r.index] = { offset: encodeOffset(base + i), duplicate: false };
      });
      const last = chunk[chunk.length - 1] as Prepared;
      head = { seq: base + chunk.length - 1, type: last.type };
      memory.remember(executionArn, head);
      pending = pending.slice(chunk.length);
      lost = 0;
      busy = 0;
      continue;
    } catch (err) {
      const name = (err as Error).name;
      if (name === "TransactionCanceledException") {
        const reasons = ((err as { CancellationReasons?: Reason[] }).CancellationReasons ?? []) as Reason[];
        // Keys already written: those records are duplicates, whatever else happened.
        const dup = new Set<Prepared>();
        for (const [i, r] of chunk.entries()) {
          const reason = reasons[2 * i + 1];
          if (reason?.Code !== "ConditionalCheckFailed") continue;
          const n = reason.Item?.[TABLE_SCHEMA.keyItemSeqAttribute]?.N;
          const seq =
            n !== undefined
              ? Number(n)
              : (await findKey(client, config.tableName, executionArn, r.recordKey))?.seq;
          if (seq === undefined) continue; // cannot be: the key item exists; retry decides
          out[r.index] = { offset: encodeOffset(seq), duplicate: true };
          dup.add(r);
        }
        if (dup.size) pending = pending.filter((r) => !dup.has(r));
        // Slots already taken: the winners are committed, so the highest becomes our head.
        let taken = false;
        let learned: Head | undefined;
        for (const [i] of chunk.entries()) {
          const reason = reasons[2 * i];
          if (reason?.Code !== "ConditionalCheckFailed") continue;
          taken = true;
          const it = reason.Item;
          const seq = Number(it?.[TABLE_SCHEMA.sortKey]?.N);
          if (it && Number.isSafeInteger(seq))
            learned = later(learned, { seq, type: it.Type?.S as RecordType });
        }
        const anyConflict = reasons.some((r) => r?.Code === "TransactionConflict");
        const marker = checksMarker ? reasons[2 * chunk.length]?.Code : undefined;
        // Another writer's transaction holds a slot we aimed at right now: it will most likely
        // commit, so this race is lost too.
        const slotBusy = chunk.some((_, i) => reasons[2 * i]?.Code === "TransactionConflict");
        if (taken || slotBusy || marker === "ConditionalCheckFailed" || marker === "TransactionConflict") {
          lost++;
          head = later(head, learned);
          head = later(head, memory.get(executionArn));
          memory.remember(executionArn, head);
          // Lost the race for the slot to one writer (whose record we now know): one more try at
          // the slot after it costs one round trip, and wins when few write at once. Lost again, or
          // to a combiner at work (the marker), or to a transaction still in flight: stage instead
          // of racing again, and combine (combine.ts).
          const markerSeen = marker === "ConditionalCheckFailed" || marker === "TransactionConflict";
          const retryOnce = taken && learned !== undefined && lost === 1 && !markerSeen;
          const staged =
            retryOnce || (head && isTerminalType(head.type)) ? [] : stageable(executionArn, pending);
          if (retryOnce) continue;
          if (staged.length) {
            memory.markContended(executionArn);
            head = await stageAndCombine(ctx, staged, head, out);
            pending = pending.filter((r) => !staged.includes(r));
            lost = 0;
            busy = 0;
            continue;
          }
          // Not stageable (a terminal record, or one too large to stage): race again.
          if (!taken) {
            busy++;
            await sleep(backoff(busy - 1));
          } else if (lost > 1 || !learned) {
            // Lost again: the head has moved on by more than one record while we tried. Wait (full
            // jitter, growing with the races lost in a row, so the herd spreads out), then read the
            // head afresh: retrying one slot further each time would never catch up with the log.
            await sleep(backoff(lost - 1));
            head = later(head, await readHead(client, config.tableName, executionArn));
          }
          head = later(head, memory.get(executionArn));
          memory.remember(executionArn, head);
        } else if (anyConflict) {
          // Another writer's transaction holds the slot right now: it will most likely commit.
          busy++;
          await sleep(backoff(busy - 1));
          head = later(head, memory.get(executionArn));
        } else if (!dup.size) {
          throw err; // a cancellation we do not understand (e.g. ValidationError): not retried
        }
      } else if (RETRYABLE.has(name)) {
        busy++;
        await sleep(throttleBackoff(busy));
      } else {
        throw err;
      }
    }
    if (pending.length && (Date.now() >= deadline || ctx.attempts >= maxAttempts)) throw conflict(ctx);
  }
}

/** The longest prefix of `pending` that fits one transaction (50 records, 4 MB). */
function takeChunk(pending: Prepared[]): Prepared[] {
  let bytes = 0;
  let n = 0;
  for (const r of pending) {
    if (n === MAX_RECORDS_PER_TRANSACTION || (n > 0 && bytes + r.bytes > MAX_TRANSACTION_BYTES)) break;
    bytes += r.bytes;
    n++;
  }
  return pending.slice(0, n);
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
