import {
  type AttributeValue,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  type TransactWriteItemsCommandInput,
} from "@aws-sdk/client-dynamodb";
import {
  encodeOffset,
  isTerminalType,
  itemSize,
  MAX_ITEM_BYTES,
  StepstreamError,
  TABLE_SCHEMA,
  writeTimeAttributes,
} from "@stepstream/results-schema";
import {
  backoff,
  findKey,
  type Head,
  type HeadMemory,
  keyItemPartition,
  later,
  MAX_TRANSACTION_ACTIONS,
  MAX_TRANSACTION_BYTES,
  noteRoundTrip,
  type Prepared,
  RETRYABLE,
  readHead,
  sleep,
  throttleBackoff,
} from "./log.js";

/**
 * The contended path: **combining**. A writer that lost the race for the next slot does not race
 * again (only one writer wins a slot per round trip, so 40 writers racing commit one record per round
 * trip and lose 39): it *stages* its record — one conditional put into the execution's staging
 * partition `stage#<executionArn>` under a unique, roughly time-ordered stage id — and then acts as
 * a **combiner**: a strongly consistent Query of the staging partition (oldest first) and one
 * `TransactWriteItems` that appends every staged record it found, its own and other writers', at
 * `head + 1, head + 2, …`, each with its key item (`attribute_not_exists`) and the Delete of its
 * staged item (`attribute_exists`). One winning transaction commits up to 33 records (3 actions per
 * record, DynamoDB's 100 actions per transaction). Everything goes through DynamoDB, so it works
 * across Lambda containers exactly as within one process. The argument that it keeps every
 * guarantee is in `packages/results-schema/README.md`.
 */

/** A transaction carries 3 actions per combined record (record, key item, staged item's Delete). */
export const MAX_RECORDS_PER_COMBINE = Math.floor(MAX_TRANSACTION_ACTIONS / 3);
/** Staged items one combiner Query reads (a few more than it can append, for duplicates). */
const STAGE_QUERY_LIMIT = 40;

/** Combining transactions a leader sends for others once its own records are appended. */
const SERVE_ROUNDS = 3;
/** How long a lease lasts unless renewed: many combining round trips. */
const leaseMs = () => Math.max(2000, 10 * combineRttMs);
/**
 * A writer waiting behind an older staged record takes over (combines itself) when the oldest has
 * stayed the oldest this long: its writer may have crashed or stalled. Long against a combining
 * round trip, so that one combiner at a time is the rule.
 */
const TAKEOVER_MIN_MS = 1000;
/** Recent combining transactions' round trip (ms, EWMA): how long a waiting writer sleeps between looks. */
let combineRttMs = 20;
const takeoverMs = () => Math.max(TAKEOVER_MIN_MS, 20 * combineRttMs);
const pollWait = () => Math.min(500, Math.max(20, combineRttMs)) * (0.75 + Math.random() / 2);

/** What the append loop shares with the combining path. */
export interface AppendContext {
  client: DynamoDBClient;
  tableName: string;
  executionArn: string;
  memory: HeadMemory;
  started: number;
  deadline: number;
  maxAttempts: number;
  attempts: number;
}

export function stagePartition(executionArn: string): string {
  return `${TABLE_SCHEMA.stagePrefix}${executionArn}`;
}

/**
 * The staging marker: an item at `Seq` 0 of the staging partition (stage ids are far above 0) that
 * says "a combiner is at work". A combiner puts it before it combines and deletes it with the
 * transaction that empties the staging partition; a stageable fast-path append checks, in its own
 * transaction, that it is absent, and stages instead if it is there. Without it a writer whose
 * short transactions keep winning the next slot would starve the combiner's long one. It is a hint
 * for fairness only: nothing about correctness depends on it.
 */
const MARKER_SEQ = "0";
const MAX_STAGE_ID = "9".repeat(38);
const markerKey = (executionArn: string): Item => ({
  [PK]: { S: stagePartition(executionArn) },
  [SK]: { N: MARKER_SEQ },
});
export function markerCheck(tableName: string, executionArn: string): Action {
  return { ConditionCheck: { TableName: tableName, Key: markerKey(executionArn), ...notExists } };
}
const LEADER = "Leader";
const LEASE_UNTIL = "LeaseUntil";
/** The marker with the lease: `leader` holds it until `until` (epoch ms; 0 = released). */
function markerItem(executionArn: string, leader: string, until: number): Item {
  return {
    ...markerKey(executionArn),
    [LEADER]: { S: leader },
    [LEASE_UNTIL]: { N: String(until) },
    [TABLE_SCHEMA.ttlAttribute]: { N: String(Math.floor(Date.now() / 1000) + 86400) },
  };
}
const heldBy = (me: string) => ({
  ConditionExpression: "#leader = :me",
  ExpressionAttributeNames: { "#leader": LEADER },
  ExpressionAttributeValues: { ":me": { S: me } },
});
function markerPut(ctx: AppendContext, me: string, until: number): Action {
  return { Put: { TableName: ctx.tableName, Item: markerItem(ctx.executionArn, me, until), ...heldBy(me) } };
}
function markerDelete(ctx: AppendContext, me: string): Action {
  return { Delete: { TableName: ctx.tableName, Key: markerKey(ctx.executionArn), ...heldBy(me) } };
}
/** Is the lease held by a live combiner (its clock and ours agree to within a lease)? */
function leaseHeld(marker: Item | undefined): boolean {
  return marker !== undefined && Number(marker[LEASE_UNTIL]?.N ?? 0) > Date.now();
}
/** Takes the lease if it is free (no marker, expired or released). */
async function takeLease(ctx: AppendContext, me: string): Promise<boolean> {
  try {
    await ctx.client.send(
      new PutItemCommand({
        TableName: ctx.tableName,
        Item: markerItem(ctx.executionArn, me, Date.now() + leaseMs()),
        ConditionExpression: "attribute_not_exists(#pk) OR #until < :now OR #leader = :me",
        ExpressionAttributeNames: { "#pk": PK, "#until": LEASE_UNTIL, "#leader": LEADER },
        ExpressionAttributeValues: { ":now": { N: String(Date.now()) }, ":me": { S: me } },
      }),
    );
    return true;
  } catch (err) {
    const name = (err as Error).name;
    if (name === "ConditionalCheckFailedException" || RETRYABLE.has(name)) return false;
    throw err;
  }
}
/**
 * Gives the lease up: the marker stays (records may still be staged: fast-path writers keep
 * staging) with the lease released, or goes when `remove` (nothing staged that we know of).
 */
async function releaseLease(ctx: AppendContext, me: string, remove: boolean): Promise<void> {
  const action = remove ? markerDelete(ctx, me) : markerPut(ctx, me, 0);
  try {
    await ctx.client.send(new TransactWriteItemsCommand({ TransactItems: [action] }));
  } catch (err) {
    const name = (err as Error).name;
    if (name !== "TransactionCanceledException" && !RETRYABLE.has(name)) throw err;
    // Someone else's lease now, or busy: it expires by itself.
  }
}

const PK = TABLE_SCHEMA.partitionKey;
const SK = TABLE_SCHEMA.sortKey;
const notExists = {
  ConditionExpression: "attribute_not_exists(#pk)",
  ExpressionAttributeNames: { "#pk": PK },
};
const exists = { ConditionExpression: "attribute_exists(#pk)", ExpressionAttributeNames: { "#pk": PK } };
type Item = Record<string, AttributeValue>;
type Action = NonNullable<TransactWriteItemsCommandInput["TransactItems"]>[number];
interface Reason {
  Code?: string;
  Item?: Item;
}

/**
 * `n` consecutive stage ids: epoch ms × 10^6 + a random number, as decimal strings (DynamoDB numbers
 * hold 38 digits). Roughly time-ordered across writers, so the oldest staged records are appended
 * first; unique by the conditional put (a collision is retried with new ids).
 */
function stageIds(n: number): string[] {
  const base = BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 999_000));
  return Array.from({ length: n }, (_, i) => String(base + BigInt(i)));
}

/** The staged form of a record: the record's attributes under the staging partition. */
function stagedItem(executionArn: string, r: Prepared, id: string, prev: string | undefined): Item {
  const {
    [PK]: _pk,
    [SK]: _sk,
    [TABLE_SCHEMA.recordKeyAttribute]: _key,
    ResultTimestamp: _t,
    WrittenAt: _w,
    ...rest
  } = r.item;
  return {
    [PK]: { S: stagePartition(executionArn) },
    [SK]: { N: id },
    [TABLE_SCHEMA.stagedKeyAttribute]: { S: r.recordKey },
    ...(prev === undefined ? {} : { [TABLE_SCHEMA.stagePrevAttribute]: { N: prev } }),
    ...rest,
  };
}

/** Records that can be staged: a prefix of `pending`, non-terminal, each staged item ≤ 400 KB. */
export function stageable(executionArn: string, pending: Prepared[]): Prepared[] {
  const out: Prepared[] = [];
  let bytes = 0;
  for (const r of pending) {
    if (out.length === MAX_RECORDS_PER_COMBINE || isTerminalType(r.type)) break;
    const size = itemSize(stagedItem(executionArn, r, "9".repeat(19), "9".repeat(19)));
    if (size > MAX_ITEM_BYTES || bytes + size > MAX_TRANSACTION_BYTES) break;
    bytes += size;
    out.push(r);
  }
  return out;
}

interface Mine {
  r: Prepared;
  id: string;
}

/**
 * Stages `records` (one producer's, in order, none terminal) and combines until each is appended —
 * by this writer or by any other combiner — or found to be a duplicate. Fills `out`; returns the
 * newest head it saw. On a closed log or when time is up, withdraws what is still staged (one
 * transaction of Deletes) and then decides from the key items.
 *
 * One combiner at a time, by a lease in the staging marker (`Leader`, `LeaseUntil`): a writer takes
 * the lease with a conditional put when it is free (absent, expired or released) and its record is
 * the oldest staged one (or the oldest has waited `takeoverMs()`: its writer may be gone), renews it
 * in each combining transaction (which is conditional on holding it, so a writer that lost its
 * lease cannot combine), and gives it up when it stops. The others look at the marker and the oldest
 * staged records now and then (one small Query) until theirs is gone. A leader whose own records
 * are appended keeps combining others' for a few more transactions, so the lease changes hands
 * seldom. The lease is for throughput only: exactly-once and order rest on the conditions of each
 * combining transaction, whoever sends it.
 */
export async function stageAndCombine(
  ctx: AppendContext,
  records: Prepared[],
  head: Head | undefined,
  out: { offset: string; duplicate: boolean }[],
): Promise<Head | undefined> {
  const mine = await stage(ctx, records);
  const me = mine[0]?.id as string;
  let left = mine;
  /** Keys known to be taken (never untaken): record key → the record holding it. */
  const taken = new Map<string, { seq: number; stagedBy?: string }>();
  let busy = 0;
  let lost = 0;
  let leading = false;
  let served = 0;
  let seen = { id: "", looks: 0, takeoverAt: 0 };
  for (;;) {
    if (!left.length && (!leading || served >= SERVE_ROUNDS)) break;
    if (head && isTerminalType(head.type)) {
      if (leading) await releaseLease(ctx, me, true);
      if (left.length) await withdraw(ctx, left, out, () => closed(head as Head));
      return head;
    }
    if (Date.now() >= ctx.deadline || ctx.attempts >= ctx.maxAttempts) {
      if (leading) await releaseLease(ctx, me, false);
      if (left.length) await withdraw(ctx, left, out, () => conflict(ctx));
      return head;
    }
    if (!leading) {
      // Wait for ours to go, or for the lease.
      const last = left[left.length - 1]?.id as string;
      const look = await queryStage(ctx, last, STAGE_QUERY_LIMIT + 1, true);
      const marker = look[0]?.[SK]?.N === MARKER_SEQ ? look[0] : undefined;
      const staged = marker ? look.slice(1) : look;
      const oldest = staged[0]?.[SK]?.N;
      const complete = look.length < STAGE_QUERY_LIMIT + 1; // all staged up to ours are here
      const stillOurs = left.filter((m) => !complete || staged.some((s) => s[SK]?.N === m.id));
      if (stillOurs.length < left.length) {
        // Nothing staged up to ours, or ours missing from the full list: gone (appended, or deleted
        // as a duplicate).
        for (const m of left) if (!stillOurs.includes(m)) out[m.r.index] = await resolveGone(ctx, m);
        left = stillOurs;
        if (!left.length) break;
        continue;
      }
      // How many staged records wait before ours: a combining transaction takes ~32 of them.
      const ahead = staged.findIndex((s) => left.some((m) => m.id === s[SK]?.N));
      const rounds = 1 + Math.floor((ahead < 0 ? staged.length : ahead) / (MAX_RECORDS_PER_COMBINE - 1));
      const ours = left.some((m) => m.id === oldest);
      if (!ours) ctx.memory.markContended(ctx.executionArn);
      if (oldest !== seen.id) {
        // Progress: a new oldest. The writer next in line may take over first if the oldest's writer
        // does not come; the others much later, each at a time of its own.
        const next = left.some((m) => m.id === staged[1]?.[SK]?.N);
        const after = takeoverMs() * (next ? 1 + Math.random() / 2 : 3 * (1 + Math.random()));
        seen = { id: oldest as string, looks: 0, takeoverAt: Date.now() + after };
      }
      const held = leaseHeld(marker);
      if (held || (!ours && Date.now() < seen.takeoverAt)) {
        await sleep(pollWait() * rounds * 2 ** Math.min(2, seen.looks++));
        continue;
      }
      if (!(await takeLease(ctx, me))) {
        // Someone took it first, or is renewing it right now.
        await sleep(pollWait() * 2 ** Math.min(2, seen.looks++));
        continue;
      }
      leading = true;
      served = 0;
      // Others combined while we waited: our head is old, and a combining transaction aimed at
      // taken slots is an expensive miss. Read it afresh (half a read unit).
      head = later(head, await readHead(ctx.client, ctx.tableName, ctx.executionArn));
      head = later(head, ctx.memory.get(ctx.executionArn));
      continue;
    }
    // Leading: take the oldest staged records, ours and anyone's.
    const page = await queryStage(ctx, undefined, STAGE_QUERY_LIMIT + 1);
    const marker = page[0]?.[SK]?.N === MARKER_SEQ ? page[0] : undefined;
    const visible = marker ? page.slice(1) : page.slice(0, STAGE_QUERY_LIMIT);
    if (marker?.[LEADER]?.S !== me) {
      // The lease was taken from us (we were too slow): wait again.
      leading = false;
      continue;
    }
    const ids = new Set(visible.map((s) => s[SK]?.N));
    const lastSeen =
      visible.length === STAGE_QUERY_LIMIT ? BigInt(visible.at(-1)?.[SK]?.N as string) : undefined;
    // Ours no longer staged: appended by another combiner, or deleted as a duplicate.
    const gone = (m: Mine) => !ids.has(m.id) && (lastSeen === undefined || BigInt(m.id) < lastSeen);
    for (const m of left) if (gone(m)) out[m.r.index] = await resolveGone(ctx, m);
    left = left.filter((m) => !gone(m));
    if (!visible.length) {
      await releaseLease(ctx, me, true);
      leading = false;
      break;
    }
    if (visible.length > left.length) ctx.memory.markContended(ctx.executionArn);
    const plan = planCombine(ctx, visible, head, taken);
    const empties = plan.handled === visible.length && visible.length < STAGE_QUERY_LIMIT;
    // Renew the lease (or, when this empties the staging partition, delete the marker), on condition
    // that we still hold it.
    plan.actions.push(empties ? markerDelete(ctx, me) : markerPut(ctx, me, Date.now() + leaseMs()));
    plan.roles.push({ kind: "marker", key: "" });
    ctx.attempts++;
    const sent = Date.now();
    try {
      await ctx.client.send(new TransactWriteItemsCommand({ TransactItems: plan.actions }));
      noteRoundTrip(Date.now() - sent);
      combineRttMs = 0.8 * combineRttMs + 0.2 * (Date.now() - sent);
      for (const m of left) {
        const done = plan.done.get(m.id);
        if (done) out[m.r.index] = { offset: encodeOffset(done.seq), duplicate: done.duplicate };
      }
      left = left.filter((m) => !plan.done.has(m.id));
      if (plan.last !== undefined) {
        head = later(head, { seq: plan.last, type: "result" });
        ctx.memory.remember(ctx.executionArn, head);
      }
      if (!left.length) served++;
      if (empties) {
        leading = false;
      } else if (!left.length && served >= SERVE_ROUNDS) {
        await releaseLease(ctx, me, false);
        leading = false;
      }
      busy = 0;
      lost = 0;
    } catch (err) {
      const name = (err as Error).name;
      if (name === "TransactionCanceledException") {
        const reasons = ((err as { CancellationReasons?: Reason[] }).CancellationReasons ?? []) as Reason[];
        let learned: Head | undefined;
        let slotTaken = false;
        let understood = false;
        for (const [i, reason] of reasons.entries()) {
          const role = plan.roles[i];
          if (!role) continue;
          if (reason?.Code === "TransactionConflict") understood = true;
          if (reason?.Code !== "ConditionalCheckFailed") continue;
          understood = true;
          if (role.kind === "slot") {
            slotTaken = true;
            const seq = Number(reason.Item?.[SK]?.N);
            if (Number.isSafeInteger(seq))
              learned = later(learned, { seq, type: reason.Item?.Type?.S as never });
          } else if (role.kind === "key") {
            const n = reason.Item?.[TABLE_SCHEMA.keyItemSeqAttribute]?.N;
            const by = reason.Item?.[TABLE_SCHEMA.keyItemStagedByAttribute]?.N;
            const k =
              n !== undefined
                ? { seq: Number(n), ...(by === undefined ? {} : { stagedBy: by }) }
                : await findKey(ctx.client, ctx.tableName, ctx.executionArn, role.key);
            if (k) taken.set(role.key, k);
          } else if (role.kind === "marker") {
            leading = false; // the lease is someone else's now
          }
          // "stage" (the staged item is gone: someone appended it) and "check" (a predecessor is
          // still staged) need nothing but a fresh look at the staging partition.
        }
        if (!understood) throw err; // e.g. ValidationError: not retried
        if (slotTaken) {
          lost++;
          head = later(head, learned);
          if (lost > 1 || !learned)
            head = later(head, await readHead(ctx.client, ctx.tableName, ctx.executionArn));
          head = later(head, ctx.memory.get(ctx.executionArn));
          ctx.memory.remember(ctx.executionArn, head);
        }
        if (reasons.some((r) => r?.Code === "TransactionConflict")) {
          // Someone is writing these items right now (a writer racing for the slot, a staging put):
          // wait a little, then look again.
          busy++;
          await sleep(backoff(busy - 1));
        }
      } else if (RETRYABLE.has(name)) {
        busy++;
        await sleep(throttleBackoff(busy));
      } else {
        throw err;
      }
    }
  }
  return head;
}

/** The error for an append to a log that already ended (`head` is its terminal record). */
export const closed = (head: Head) =>
  new StepstreamError(
    "StreamClosed",
    `execution already ended with a ${head.type} record at offset ${encodeOffset(head.seq)}; nothing more can be written`,
  );
/** The error for an append that ran out of time or attempts. */
export const conflict = (ctx: AppendContext) =>
  new StepstreamError(
    "Conflict",
    `could not append after ${ctx.attempts} attempts in ${Date.now() - ctx.started} ms (lost races, transaction conflicts or throttling on execution ${ctx.executionArn}); retry the step`,
  );

/** Stages `records` in one transaction (one conditional put each), so a reader of the staging
 * partition sees them in their order; a stage-id collision is retried with new ids. */
async function stage(ctx: AppendContext, records: Prepared[]): Promise<Mine[]> {
  let busy = 0;
  for (;;) {
    const ids = stageIds(records.length);
    const actions: Action[] = records.map((r, i) => ({
      Put: {
        TableName: ctx.tableName,
        Item: stagedItem(ctx.executionArn, r, ids[i] as string, ids[i - 1]),
        ...notExists,
      },
    }));
    try {
      await ctx.client.send(new TransactWriteItemsCommand({ TransactItems: actions }));
      return records.map((r, i) => ({ r, id: ids[i] as string }));
    } catch (err) {
      const name = (err as Error).name;
      const reasons = ((err as { CancellationReasons?: Reason[] }).CancellationReasons ?? []) as Reason[];
      const retry =
        RETRYABLE.has(name) ||
        (name === "TransactionCanceledException" &&
          reasons.some((r) => r?.Code === "ConditionalCheckFailed" || r?.Code === "TransactionConflict"));
      if (!retry) throw err;
      if (Date.now() >= ctx.deadline) throw conflict(ctx);
      busy++;
      await sleep(throttleBackoff(busy));
    }
  }
}

/**
 * The staging partition, oldest first, strongly consistent: staged records up to `lastId` (the
 * marker not included), or with no `lastId` all of it, the marker (`Seq` 0) first if it is there.
 */
async function queryStage(
  ctx: AppendContext,
  lastId: string | undefined,
  limit: number,
  idsOnly = false,
): Promise<Item[]> {
  const res = await ctx.client.send(
    new QueryCommand({
      TableName: ctx.tableName,
      KeyConditionExpression: "#pk = :pk AND #sk BETWEEN :lo AND :hi",
      ExpressionAttributeNames: idsOnly
        ? { "#pk": PK, "#sk": SK, "#leader": LEADER, "#until": LEASE_UNTIL }
        : { "#pk": PK, "#sk": SK },
      ...(idsOnly ? { ProjectionExpression: "#sk, #leader, #until" } : {}),
      ExpressionAttributeValues: {
        ":pk": { S: stagePartition(ctx.executionArn) },
        ":lo": { N: MARKER_SEQ },
        ":hi": { N: lastId ?? MAX_STAGE_ID },
      },
      ConsistentRead: true,
      Limit: limit,
    }),
  );
  return res.Items ?? [];
}

/**
 * Our staged record is gone: the transaction that deleted it also wrote its key item (appended it, or
 * found its key taken). The key item says which: `StagedBy` = our stage id → appended for us. A
 * consistent Query is read-committed, so the key item can lag the delete we saw: look again briefly.
 */
async function resolveGone(ctx: AppendContext, m: Mine): Promise<{ offset: string; duplicate: boolean }> {
  for (let n = 0; ; n++) {
    const k = await findKey(ctx.client, ctx.tableName, ctx.executionArn, m.r.recordKey);
    if (k) return { offset: encodeOffset(k.seq), duplicate: k.stagedBy !== m.id };
    if (Date.now() >= ctx.deadline + 5_000) throw conflict(ctx);
    await sleep(backoff(n));
  }
}

/**
 * Takes back what is still staged (one transaction of Deletes, all or nothing: a combiner either
 * appended some prefix of them before, or appends none after), then decides each from its key item:
 * appended for us, a duplicate, or not written (then `fail()` is thrown).
 */
async function withdraw(
  ctx: AppendContext,
  left: Mine[],
  out: { offset: string; duplicate: boolean }[],
  fail: () => StepstreamError,
): Promise<void> {
  const actions: Action[] = left.map((m) => ({
    Delete: {
      TableName: ctx.tableName,
      Key: { [PK]: { S: stagePartition(ctx.executionArn) }, [SK]: { N: m.id } },
    },
  }));
  for (let busy = 1; ; busy++) {
    try {
      await ctx.client.send(new TransactWriteItemsCommand({ TransactItems: actions }));
      break;
    } catch (err) {
      const name = (err as Error).name;
      if (!RETRYABLE.has(name) && name !== "TransactionCanceledException") throw err;
      if (Date.now() >= ctx.deadline + 10_000) throw conflict(ctx);
      await sleep(throttleBackoff(busy));
    }
  }
  let failure: StepstreamError | undefined;
  for (const m of left) {
    const k = await findKey(ctx.client, ctx.tableName, ctx.executionArn, m.r.recordKey);
    if (k) out[m.r.index] = { offset: encodeOffset(k.seq), duplicate: k.stagedBy !== m.id };
    else failure ??= fail();
  }
  if (failure) throw failure;
}

type Role = { kind: "slot" | "key" | "stage" | "check" | "dup" | "marker"; key: string };
interface Plan {
  actions: Action[];
  roles: Role[];
  /** Stage id → what becomes of it if the transaction commits. */
  done: Map<string, { seq: number; duplicate: boolean }>;
  /** The last slot written, if any. */
  last?: number;
  /** How many of the staged items given it handles (from the oldest). */
  handled: number;
}

/**
 * One combining transaction over the staged items `visible` (oldest first): each not-yet-taken key
 * appended at the next slot with its key item and the Delete of its staged item; a staged record
 * whose key is taken (or appears twice) only deleted. A staged record whose predecessor in its
 * `putResults` call is not in this transaction gets a `ConditionCheck` that the predecessor is no
 * longer staged, so one producer's records are appended in their order even if the Query saw only
 * part of the transaction that staged them.
 */
function planCombine(
  ctx: AppendContext,
  visible: Item[],
  head: Head | undefined,
  taken: Map<string, { seq: number; stagedBy?: string }>,
): Plan {
  const plan: Plan = { actions: [], roles: [], done: new Map(), handled: 0 };
  const stagePk = stagePartition(ctx.executionArn);
  const handled = new Set<string>();
  const slotOfKey = new Map<string, number>();
  const stamp = writeTimeAttributes(Date.now());
  let slot = head ? head.seq + 1 : 0;
  let bytes = 0;
  for (const s of visible) {
    const id = s[SK]?.N as string;
    const key = s[TABLE_SCHEMA.stagedKeyAttribute]?.S as string;
    const prev = s[TABLE_SCHEMA.stagePrevAttribute]?.N;
    const stagedKey = { [PK]: { S: stagePk }, [SK]: { N: id } };
    // A key already taken (or appended earlier in this transaction): the staged record is only
    // deleted. (Its record may even be this very staged item's, appended by a combiner whose
    // transaction the Query saw only in part: the key item's StagedBy says so.)
    const holder = taken.get(key) ?? (slotOfKey.has(key) ? { seq: slotOfKey.get(key) as number } : undefined);
    if (holder !== undefined) {
      if (plan.actions.length + 1 > MAX_TRANSACTION_ACTIONS - 1) break;
      plan.actions.push({ Delete: { TableName: ctx.tableName, Key: stagedKey } });
      plan.roles.push({ kind: "dup", key });
      plan.done.set(id, { seq: holder.seq, duplicate: holder.stagedBy !== id });
      handled.add(id);
      plan.handled++;
      continue;
    }
    const check = prev !== undefined && !handled.has(prev);
    const {
      [PK]: _pk,
      [SK]: _sk,
      [TABLE_SCHEMA.stagedKeyAttribute]: _k,
      [TABLE_SCHEMA.stagePrevAttribute]: _p,
      ...attributes
    } = s;
    const record: Item = {
      [PK]: { S: ctx.executionArn },
      [SK]: { N: String(slot) },
      [TABLE_SCHEMA.recordKeyAttribute]: { S: key },
      ...attributes,
      ...stamp,
    };
    const keyItem: Item = {
      [PK]: { S: keyItemPartition(ctx.executionArn, key) },
      [SK]: { N: "0" },
      [TABLE_SCHEMA.keyItemSeqAttribute]: { N: String(slot) },
      [TABLE_SCHEMA.keyItemStagedByAttribute]: { N: id },
      ...(attributes[TABLE_SCHEMA.ttlAttribute]
        ? { [TABLE_SCHEMA.ttlAttribute]: attributes[TABLE_SCHEMA.ttlAttribute] }
        : {}),
    };
    const size = itemSize(record) + itemSize(keyItem) + itemSize(stagedKey);
    // One action stays free for the marker's Delete.
    if (plan.actions.length + (check ? 4 : 3) > MAX_TRANSACTION_ACTIONS - 1) break;
    if (plan.actions.length && bytes + size > MAX_TRANSACTION_BYTES) break;
    bytes += size;
    const allOld = { ReturnValuesOnConditionCheckFailure: "ALL_OLD" as const };
    plan.actions.push(
      { Put: { TableName: ctx.tableName, Item: record, ...notExists, ...allOld } },
      { Put: { TableName: ctx.tableName, Item: keyItem, ...notExists, ...allOld } },
      { Delete: { TableName: ctx.tableName, Key: stagedKey, ...exists } },
    );
    plan.roles.push({ kind: "slot", key }, { kind: "key", key }, { kind: "stage", key });
    if (check) {
      plan.actions.push({
        ConditionCheck: {
          TableName: ctx.tableName,
          Key: { [PK]: { S: stagePk }, [SK]: { N: prev } },
          ...notExists,
        },
      });
      plan.roles.push({ kind: "check", key });
    }
    plan.done.set(id, { seq: slot, duplicate: false });
    slotOfKey.set(key, slot);
    handled.add(id);
    plan.handled++;
    plan.last = slot;
    slot++;
  }
  return plan;
}
