import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { itemSize, TABLE_SCHEMA } from "@stepstream/results-schema";

/**
 * DynamoDB capacity, computed as AWS bills it, from the requests and responses seen at the emulator's
 * front door.
 *
 * - A `Query` consumes the total size of every item it *read* — before any `FilterExpression` and
 *   regardless of `ProjectionExpression` — rounded up to the next 4 KB, at least one 4 KB unit; an
 *   eventually consistent read costs half (0.5 RCU per unit), a strongly consistent one a full RCU.
 * - A write (`PutItem`, `UpdateItem`, `DeleteItem`, each item of a `BatchWriteItem`) consumes the
 *   larger of the item's size before and after, rounded up to the next 1 KB, at least 1 WCU.
 * - A `TransactWriteItems` costs each of its items twice that: "DynamoDB performs two underlying reads
 *   or writes of every item in the transaction: one to prepare the transaction and one to commit the
 *   transaction" (Developer Guide, "Amazon DynamoDB Transactions: How it works", Capacity management
 *   for transactions, https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling;
 *   a transactional write of an item up to 1 KB takes two write units, "DynamoDB read and write
 *   operations", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html).
 *   A `ConditionCheck` is counted like a write of the item it checks. A cancelled transaction (a
 *   condition failed, a conflict) is counted as if it had written, like a failed conditional
 *   `PutItem`: an upper bound, since AWS does not report what a cancelled transaction consumed.
 *
 * The emulator does not report this unless a request asks for it, so the ledger keeps a shadow of the
 * results table built from the write requests it sees (every write passes the same door) to know the
 * size of items a `Query` read but did not return (filtered out, or projected down).
 */
export const READ_UNIT_BYTES = 4096;
export const WRITE_UNIT_BYTES = 1024;
/** Bytes DynamoDB adds to each local secondary index entry. */
export const INDEX_ENTRY_OVERHEAD_BYTES = 100;

/** Read capacity units of one read of `bytes` bytes. */
export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
  return consistent ? units : units / 2;
}

/** Write capacity units of writing an item of `bytes` bytes. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
}

type Item = Record<string, AttributeValue>;

/** What one party did at the door. */
export interface Tally {
  /** Requests by operation (`Query`, `PutItem`, …), failed ones included. */
  ops: Record<string, number>;
  /** Failed requests by operation (HTTP status ≠ 200; a failed conditional write still costs). */
  errors: Record<string, number>;
  readUnits: number;
  writeUnits: number;
  /** Items read by `Query`/`GetItem` before filtering. */
  itemsRead: number;
  /** Items returned to the caller. */
  itemsReturned: number;
  /** Items written (a `BatchWriteItem` counts each). */
  itemsWritten: number;
  /** Queries that returned no item. */
  emptyQueries: number;
}

export function emptyTally(): Tally {
  return {
    ops: {},
    errors: {},
    readUnits: 0,
    writeUnits: 0,
    itemsRead: 0,
    itemsReturned: 0,
    itemsWritten: 0,
    emptyQueries: 0,
  };
}

/** `a - b`, field by field. */
export function diffTally(a: Tally, b: Tally | undefined): Tally {
  const out = emptyTally();
  const sub = (
    x: Record<string, number>,
    y: Record<string, number> | undefined,
    into: Record<string, number>,
  ) => {
    for (const k of new Set([...Object.keys(x), ...Object.keys(y ?? {})])) {
      const v = (x[k] ?? 0) - (y?.[k] ?? 0);
      if (v) into[k] = v;
    }
  };
  sub(a.ops, b?.ops, out.ops);
  sub(a.errors, b?.errors, out.errors);
  for (const k of [
    "readUnits",
    "writeUnits",
    "itemsRead",
    "itemsReturned",
    "itemsWritten",
    "emptyQueries",
  ] as const) {
    out[k] = a[k] - (b?.[k] ?? 0);
  }
  return out;
}

export function addTally(into: Tally, t: Tally): Tally {
  for (const [k, v] of Object.entries(t.ops)) into.ops[k] = (into.ops[k] ?? 0) + v;
  for (const [k, v] of Object.entries(t.errors)) into.errors[k] = (into.errors[k] ?? 0) + v;
  for (const k of [
    "readUnits",
    "writeUnits",
    "itemsRead",
    "itemsReturned",
    "itemsWritten",
    "emptyQueries",
  ] as const) {
    into[k] += t[k];
  }
  return into;
}

/** Ledger totals: by tag (who sent the request), and by tag and execution group. */
export interface LedgerSnapshot {
  byTag: Record<string, Tally>;
  byGroup: Record<string, Record<string, Tally>>;
}

/** `a - b` for whole snapshots. */
export function diffSnapshot(a: LedgerSnapshot, b: LedgerSnapshot): LedgerSnapshot {
  const byTag: Record<string, Tally> = {};
  for (const [tag, t] of Object.entries(a.byTag)) byTag[tag] = diffTally(t, b.byTag[tag]);
  const byGroup: Record<string, Record<string, Tally>> = {};
  for (const [tag, groups] of Object.entries(a.byGroup)) {
    byGroup[tag] = {};
    for (const [g, t] of Object.entries(groups))
      (byGroup[tag] as Record<string, Tally>)[g] = diffTally(t, b.byGroup[tag]?.[g]);
  }
  return { byTag, byGroup };
}

/**
 * The group of an execution, for per-scenario accounting: the part of the execution name (after the
 * start API's `ss-<start ms>-` prefix, when it has one) before `--` (the bench names executions
 * `ss-<start ms>-<group>--<n>-…`), or `other`.
 */
export function groupOf(executionArn: string | undefined): string {
  if (!executionArn) return "other";
  const name = (executionArn.split(":")[7] ?? "").replace(/^ss-\d{13}-/, "");
  const i = name.indexOf("--");
  return i > 0 ? name.slice(0, i) : "other";
}

interface Condition {
  op: "=" | "<" | "<=" | ">" | ">=";
  value: number;
}

/** One action of a `TransactWriteItems` request. */
interface TransactAction {
  Put?: { TableName?: string; Item?: Item };
  Update?: {
    TableName?: string;
    Key?: Item;
    UpdateExpression?: string;
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Item;
  };
  Delete?: { TableName?: string; Key?: Item };
  ConditionCheck?: { TableName?: string; Key?: Item };
}

/** Transactional writes cost twice a standard write of the same item. */
export const TRANSACTION_COST_FACTOR = 2;

/**
 * The execution a partition key belongs to: the ARN itself, or, for a writer's key item
 * (`key#<executionArn>#<recordKey>`), the ARN inside it.
 */
function executionOfKey(pk: string | undefined): string | undefined {
  if (pk === undefined || !pk.startsWith(TABLE_SCHEMA.keyItemPrefix)) return pk;
  const rest = pk.slice(TABLE_SCHEMA.keyItemPrefix.length);
  const i = rest.lastIndexOf("#");
  return i > 0 ? rest.slice(0, i) : rest;
}

interface RequestBody {
  TableName?: string;
  IndexName?: string;
  KeyConditionExpression?: string;
  FilterExpression?: string;
  ProjectionExpression?: string;
  AttributesToGet?: string[];
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
  ConsistentRead?: boolean;
  ScanIndexForward?: boolean;
  Limit?: number;
  Select?: string;
  Key?: Item;
  Item?: Item;
  UpdateExpression?: string;
  RequestItems?: Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>;
  TransactItems?: TransactAction[];
}

interface ResponseBody {
  Items?: Item[];
  Item?: Item;
  Count?: number;
  ScannedCount?: number;
}

/** Parses `#pk = :pk AND #sk > :sk` (the shapes our readers and writers send). */
function parseKeyCondition(req: RequestBody): { pk?: string; sk?: Condition; rk?: string } {
  const names = req.ExpressionAttributeNames ?? {};
  const values = req.ExpressionAttributeValues ?? {};
  const out: { pk?: string; sk?: Condition; rk?: string } = {};
  for (const part of (req.KeyConditionExpression ?? "").split(/\s+AND\s+/i)) {
    const m = /^\s*\(?\s*(#?[A-Za-z0-9_]+)\s*(=|<=|>=|<|>)\s*(:[A-Za-z0-9_]+)\s*\)?\s*$/.exec(part);
    if (!m) continue;
    const name = m[1]?.startsWith("#") ? names[m[1]] : m[1];
    const value = values[m[3] as string];
    if (name === TABLE_SCHEMA.partitionKey && value?.S !== undefined) out.pk = value.S;
    else if (name === TABLE_SCHEMA.sortKey && value?.N !== undefined) {
      out.sk = { op: m[2] as Condition["op"], value: Number(value.N) };
    } else if (name === TABLE_SCHEMA.recordKeyAttribute && value?.S !== undefined) out.rk = value.S;
  }
  return out;
}

function matches(seq: number, c: Condition | undefined): boolean {
  if (!c) return true;
  switch (c.op) {
    case "=":
      return seq === c.value;
    case "<":
      return seq < c.value;
    case "<=":
      return seq <= c.value;
    case ">":
      return seq > c.value;
    case ">=":
      return seq >= c.value;
  }
}

/** Applies `SET a = :v, b = :w` to a copy of an item (the only update form the bench sees). */
function applySet(item: Item, req: RequestBody): Item {
  const m = /^\s*set\s+(.+)$/i.exec(req.UpdateExpression ?? "");
  if (!m) return item;
  const out = { ...item };
  for (const assign of (m[1] as string).split(",")) {
    const a = /^\s*(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)\s*$/.exec(assign);
    if (!a) continue;
    const name = a[1]?.startsWith("#") ? req.ExpressionAttributeNames?.[a[1]] : a[1];
    const value = req.ExpressionAttributeValues?.[a[2] as string];
    if (name && value) out[name] = value;
  }
  return out;
}

/**
 * Accounts DynamoDB requests as they pass the emulator's front door: counts by operation, and the
 * read and write capacity AWS would charge, per tag (who sent it) and per execution group.
 */
export class CapacityLedger {
  /** table → execution ARN → seq → item. */
  private readonly shadow = new Map<string, Map<string, Map<number, Item>>>();
  private readonly byTag: Record<string, Tally> = {};
  private readonly byGroup: Record<string, Record<string, Tally>> = {};

  private partition(table: string, pk: string): Map<number, Item> {
    let t = this.shadow.get(table);
    if (!t) {
      t = new Map();
      this.shadow.set(table, t);
    }
    let p = t.get(pk);
    if (!p) {
      p = new Map();
      t.set(pk, p);
    }
    return p;
  }

  private tallies(tag: string, pk: string | undefined): [Tally, Tally] {
    this.byTag[tag] ??= emptyTally();
    this.byGroup[tag] ??= {};
    const groups = this.byGroup[tag];
    const group = groupOf(pk);
    groups[group] ??= emptyTally();
    return [this.byTag[tag], groups[group]];
  }

  /** Records one request and its response. */
  observe(op: string, tag: string, status: number, req: RequestBody, res: ResponseBody): void {
    const table = req.TableName ?? "";
    let pk: string | undefined;
    let read = 0;
    let write = 0;
    let itemsRead = 0;
    let itemsReturned = 0;
    let itemsWritten = 0;
    let empty = 0;
    const ok = status === 200;
    switch (op) {
      case "Query": {
        const cond = parseKeyCondition(req);
        pk = cond.pk;
        if (!ok) break;
        const returned = res.Items ?? [];
        const scanned = res.ScannedCount ?? returned.length;
        itemsRead = scanned;
        itemsReturned = res.Count ?? returned.length;
        if (itemsReturned === 0) empty = 1;
        let bytes = 0;
        if (req.IndexName) {
          // A KEYS_ONLY local index entry: its keys plus a fixed overhead.
          const entry: Item = {
            [TABLE_SCHEMA.partitionKey]: { S: pk ?? "" },
            [TABLE_SCHEMA.recordKeyAttribute]: { S: cond.rk ?? "" },
            [TABLE_SCHEMA.sortKey]: { N: "1000" },
          };
          bytes = scanned * (itemSize(entry) + INDEX_ENTRY_OVERHEAD_BYTES);
        } else if (
          !req.FilterExpression &&
          !req.ProjectionExpression &&
          !req.AttributesToGet &&
          req.Select !== "COUNT" &&
          returned.length === scanned
        ) {
          for (const item of returned) bytes += itemSize(item);
        } else if (pk !== undefined) {
          const part = this.partition(table, pk);
          const seqs = [...part.keys()].filter((s) => matches(s, cond.sk)).sort((a, b) => a - b);
          if (req.ScanIndexForward === false) seqs.reverse();
          for (const s of seqs.slice(0, scanned)) bytes += itemSize(part.get(s) as Item);
        }
        read = readUnits(bytes, req.ConsistentRead === true);
        break;
      }
      case "GetItem": {
        pk = req.Key?.[TABLE_SCHEMA.partitionKey]?.S;
        if (!ok) break;
        const seq = Number(req.Key?.[TABLE_SCHEMA.sortKey]?.N);
        const item = pk !== undefined ? this.partition(table, pk).get(seq) : undefined;
        itemsRead = item ? 1 : 0;
        itemsReturned = res.Item ? 1 : 0;
        read = readUnits(item ? itemSize(item) : 0, req.ConsistentRead === true);
        break;
      }
      case "PutItem": {
        const item = req.Item ?? {};
        pk = item[TABLE_SCHEMA.partitionKey]?.S;
        const seq = Number(item[TABLE_SCHEMA.sortKey]?.N);
        const part = pk !== undefined ? this.partition(table, pk) : undefined;
        const before = part?.get(seq);
        write = writeUnits(Math.max(itemSize(item), before ? itemSize(before) : 0));
        if (ok) {
          part?.set(seq, item);
          itemsWritten = 1;
        }
        break;
      }
      case "UpdateItem": {
        pk = req.Key?.[TABLE_SCHEMA.partitionKey]?.S;
        const seq = Number(req.Key?.[TABLE_SCHEMA.sortKey]?.N);
        const part = pk !== undefined ? this.partition(table, pk) : undefined;
        const before = part?.get(seq) ?? req.Key ?? {};
        const after = applySet(before, req);
        write = writeUnits(Math.max(itemSize(before), itemSize(after)));
        if (ok) {
          part?.set(seq, after);
          itemsWritten = 1;
        }
        break;
      }
      case "DeleteItem": {
        pk = req.Key?.[TABLE_SCHEMA.partitionKey]?.S;
        const seq = Number(req.Key?.[TABLE_SCHEMA.sortKey]?.N);
        const part = pk !== undefined ? this.partition(table, pk) : undefined;
        const before = part?.get(seq);
        write = writeUnits(before ? itemSize(before) : 0);
        if (ok) part?.delete(seq);
        break;
      }
      case "BatchWriteItem": {
        // Counted once as a request; each item's units go to its own execution's group.
        const [t] = this.tallies(tag, undefined);
        t.ops[op] = (t.ops[op] ?? 0) + 1;
        if (!ok) t.errors[op] = (t.errors[op] ?? 0) + 1;
        for (const [tableName, requests] of Object.entries(req.RequestItems ?? {})) {
          for (const r of requests) {
            const item = r.PutRequest?.Item;
            if (!item) continue;
            const itemPk = item[TABLE_SCHEMA.partitionKey]?.S;
            const units = writeUnits(itemSize(item));
            const [tt, g] = this.tallies(tag, itemPk);
            tt.writeUnits += units;
            g.writeUnits += units;
            if (ok) {
              tt.itemsWritten++;
              g.itemsWritten++;
              if (itemPk !== undefined)
                this.partition(tableName, itemPk).set(Number(item[TABLE_SCHEMA.sortKey]?.N), item);
            }
          }
        }
        return;
      }
      case "TransactWriteItems": {
        // One request, counted in the group of its first item's execution; every item costs twice
        // its standard write (prepare + commit), and its units go to its own execution's group.
        const actions = req.TransactItems ?? [];
        const firstPk = (() => {
          const a = actions[0];
          const k = a?.Put?.Item ?? a?.Update?.Key ?? a?.Delete?.Key ?? a?.ConditionCheck?.Key;
          return executionOfKey(k?.[TABLE_SCHEMA.partitionKey]?.S);
        })();
        for (const t of this.tallies(tag, firstPk)) {
          t.ops[op] = (t.ops[op] ?? 0) + 1;
          if (!ok) t.errors[op] = (t.errors[op] ?? 0) + 1;
        }
        for (const a of actions) {
          const tableName =
            a.Put?.TableName ??
            a.Update?.TableName ??
            a.Delete?.TableName ??
            a.ConditionCheck?.TableName ??
            table;
          const key = a.Put?.Item ?? a.Update?.Key ?? a.Delete?.Key ?? a.ConditionCheck?.Key ?? {};
          const itemPk = key[TABLE_SCHEMA.partitionKey]?.S;
          const seq = Number(key[TABLE_SCHEMA.sortKey]?.N);
          const part = itemPk !== undefined ? this.partition(tableName, itemPk) : undefined;
          const before = part?.get(seq);
          let bytes = before ? itemSize(before) : 0;
          let after: Item | undefined;
          if (a.Put?.Item) {
            after = a.Put.Item;
            bytes = Math.max(bytes, itemSize(after));
          } else if (a.Update) {
            after = applySet(before ?? a.Update.Key ?? {}, a.Update);
            bytes = Math.max(bytes, itemSize(after));
          }
          const units = TRANSACTION_COST_FACTOR * writeUnits(bytes);
          const [tt, g] = this.tallies(tag, executionOfKey(itemPk));
          tt.writeUnits += units;
          g.writeUnits += units;
          if (ok && (a.Put || a.Update || a.Delete)) {
            tt.itemsWritten++;
            g.itemsWritten++;
            if (a.Delete) part?.delete(seq);
            else if (after) part?.set(seq, after);
          }
        }
        return;
      }
      default:
        break;
    }
    for (const t of this.tallies(tag, pk)) {
      t.ops[op] = (t.ops[op] ?? 0) + 1;
      if (!ok) t.errors[op] = (t.errors[op] ?? 0) + 1;
      t.readUnits += read;
      t.writeUnits += write;
      t.itemsRead += itemsRead;
      t.itemsReturned += itemsReturned;
      t.itemsWritten += itemsWritten;
      t.emptyQueries += empty;
    }
  }

  snapshot(): LedgerSnapshot {
    return structuredClone({ byTag: this.byTag, byGroup: this.byGroup });
  }
}
