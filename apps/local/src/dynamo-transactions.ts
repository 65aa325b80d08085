import { createHash } from "node:crypto";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { Readable } from "node:stream";
import { IdempotencyTokens } from "./idempotency-tokens.js";

/**
 * `TransactWriteItems` for the DynamoDB emulator. dynalite 4 has no transactions, and the writer
 * (`@stepstream/steps`) appends with one, so the local stack adds the operation to dynalite's own
 * store, with dynalite's own validation, condition evaluation and index maintenance, and AWS's rules
 * (API reference, TransactWriteItems; developer guide, "Managing complex workflows with DynamoDB
 * transactions"):
 *
 * - 1 to 100 actions (`Put`, `Delete`, `ConditionCheck`; `Update` is refused with a message, the local
 *   stack's writers never send one), no two on one item, at most 4 MB in all: else `ValidationException`.
 * - All or nothing: every condition is evaluated first; if any fails, nothing is written and the
 *   answer is `TransactionCanceledException` with one `CancellationReasons` entry per action
 *   (`ConditionalCheckFailed`, with the old item when `ReturnValuesOnConditionCheckFailure` is
 *   `ALL_OLD`, or `None`).
 * - No waiting: an action on an item that another transaction is writing at that moment cancels the
 *   transaction with `TransactionConflict`, and a single-item write (`PutItem`, `UpdateItem`,
 *   `DeleteItem`) to such an item fails with `TransactionConflictException`, as on AWS — never kinder.
 * - `ClientRequestToken` makes a repeated call idempotent for 10 minutes (same token and same request:
 *   success, nothing written again; same token, other request: `IdempotentParameterMismatchException`).
 *
 * What still differs: items of one transaction become visible to a concurrent `Query` one by one
 * (AWS's reads are read-committed, also item by item); no throttling.
 */

const require = createRequire(import.meta.url);
const dynalitePath = require.resolve("dynalite");
const dreq = createRequire(dynalitePath);

type Item = Record<string, unknown>;
type Cb<T> = (err: (Error & { name: string; statusCode?: number; body?: unknown }) | null, v?: T) => void;
interface Table {
  TableName: string;
  KeySchema: { AttributeName: string; KeyType: string }[];
}
interface ItemDb {
  lock(key: string, fn: (release: (cb: () => void) => () => void) => void): void;
  get(key: string, cb: Cb<Item>): void;
  put(key: string, item: Item, cb: Cb<void>): void;
  del(key: string, cb: Cb<void>): void;
}
interface Store {
  getTable(name: string, cb: Cb<Table>): void;
  getItemDb(name: string): ItemDb;
}
interface DynaliteDb {
  create(options: unknown): Store;
  validateItem(item: Item, table: Table): Error | null | undefined;
  validateKey(key: Item, table: Table): Error | null | undefined;
  createKey(item: Item, table: Table): string;
  checkConditional(data: Item, existing: Item | undefined): Error | null | undefined;
  updateIndexes(
    store: Store,
    table: Table,
    existing: Item | undefined,
    item: Item | null,
    cb: Cb<void>,
  ): void;
  itemSize(item: Item): number;
}
interface Validation {
  types: unknown;
  custom: unknown;
}
const db = dreq("./db") as DynaliteDb;
const validations = dreq("./validations") as {
  checkTypes(data: unknown, types: unknown): Item;
  checkValidations(data: unknown, types: unknown, custom: unknown, store: Store): void;
};
const putValidation = dreq("./validations/putItem") as Validation;
const deleteValidation = dreq("./validations/deleteItem") as Validation;
const crc32 = dreq("buffer-crc32") as { unsigned(s: string): number };

/** AWS's limits for one `TransactWriteItems` (API reference: "up to 100 action requests", "4 MB"). */
export const TRANSACTION_MAX_ACTIONS = 100;
export const TRANSACTION_MAX_BYTES = 4 * 1024 * 1024;
/** A client request token is valid for 10 minutes after the first request that used it. */
const TOKEN_TTL_MS = 10 * 60 * 1000;

/**
 * Creates the dynalite server with `TransactWriteItems` added. dynalite's store is module-internal:
 * `db.create` is wrapped for the one call that makes it.
 */
export function dynaliteWithTransactions(
  dynalite: (options: object) => Server,
  options: Record<string, unknown>,
): Server {
  const create = db.create;
  let store: Store | undefined;
  db.create = (o: unknown) => {
    store = create(o);
    return store;
  };
  let server: Server;
  try {
    server = dynalite(options);
  } finally {
    db.create = create;
  }
  if (!store) throw new Error("dynalite did not create its store");
  installTransactions(server, store);
  return server;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
const validation = (message: string) =>
  new ApiError("com.amazon.coral.validate#ValidationException", message);

function send(res: ServerResponse, status: number, data: unknown): void {
  const body = JSON.stringify(data);
  res.statusCode = status;
  res.setHeader("x-amzn-RequestId", createHash("sha1").update(`${Date.now()}${Math.random()}`).digest("hex"));
  res.setHeader("x-amz-crc32", crc32.unsigned(body));
  res.setHeader("Content-Type", "application/x-amz-json-1.0");
  res.setHeader("Content-Length", Buffer.byteLength(body));
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const call = <T>(fn: (cb: Cb<T>) => void): Promise<T | undefined> =>
  new Promise((resolve, reject) =>
    fn((err, v) => {
      if (err && err.name !== "NotFoundError") reject(err);
      else resolve(err ? undefined : v);
    }),
  );

interface Action {
  kind: "Put" | "Delete" | "ConditionCheck";
  data: Item;
  table: Table;
  itemDb: ItemDb;
  key: string;
  lockKey: string;
  allOld: boolean;
  existing?: Item;
}

function installTransactions(server: Server, store: Store): void {
  const inner = server.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners("request");
  /** Items being written by a transaction right now (table + key). */
  const inFlight = new Set<string>();
  /** The name under which an item is held while a transaction writes it: its table and its key. */
  const lockKeyOf = (table: Table, key: string) => `${table.TableName}\u0000${key}`;
  const tokens = new IdempotencyTokens(TOKEN_TTL_MS);

  const getTable = async (name: unknown): Promise<Table> => {
    if (typeof name !== "string") throw validation("TableName is required");
    const table = await call<Table>((cb) => store.getTable(name, cb));
    if (!table)
      throw new ApiError(
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
        "Requested resource not found",
      );
    return table;
  };

  async function prepare(raw: unknown, tableOf: (name: unknown) => Promise<Table>): Promise<Action> {
    const entry = (raw ?? {}) as Record<string, unknown>;
    const kinds = Object.keys(entry).filter((k) => entry[k] != null);
    if (kinds.length !== 1)
      throw validation("TransactItems can only contain one of Check, Put, Update or Delete");
    const kind = kinds[0] as string;
    if (kind === "Update") {
      throw validation(
        "the local stack's TransactWriteItems supports Put, Delete and ConditionCheck, not Update",
      );
    }
    if (kind !== "Put" && kind !== "Delete" && kind !== "ConditionCheck") {
      throw validation(`unknown transaction action ${kind}`);
    }
    const action = entry[kind] as Item;
    const { ReturnValuesOnConditionCheckFailure, ...rest } = action;
    if (kind === "ConditionCheck" && typeof rest.ConditionExpression !== "string") {
      throw validation("ConditionCheck requires a ConditionExpression");
    }
    const v = kind === "Put" ? putValidation : deleteValidation;
    let data: Item;
    try {
      data = validations.checkTypes(rest, v.types);
      validations.checkValidations(data, v.types, v.custom, store);
    } catch (err) {
      const e = err as { body?: { __type?: string; message?: string } };
      if (e.body) throw new ApiError(e.body.__type ?? "ValidationException", e.body.message ?? "invalid");
      throw err;
    }
    const table = await tableOf(data.TableName);
    const keySource = kind === "Put" ? (data.Item as Item) : (data.Key as Item);
    const invalid = kind === "Put" ? db.validateItem(keySource, table) : db.validateKey(keySource, table);
    if (invalid) {
      const e = invalid as { body?: { __type?: string; message?: string } };
      throw new ApiError(e.body?.__type ?? "ValidationException", e.body?.message ?? invalid.message);
    }
    const key = db.createKey(keySource, table);
    return {
      kind,
      data,
      table,
      itemDb: store.getItemDb(table.TableName),
      key,
      lockKey: lockKeyOf(table, key),
      allOld: ReturnValuesOnConditionCheckFailure === "ALL_OLD",
    };
  }

  async function transact(body: Record<string, unknown>): Promise<unknown> {
    const items = body.TransactItems;
    if (!Array.isArray(items) || items.length < 1) {
      throw validation(
        "1 validation error detected: Value null at 'transactItems' failed to satisfy constraint: Member must not be null",
      );
    }
    if (items.length > TRANSACTION_MAX_ACTIONS) {
      throw validation(
        `1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to ${TRANSACTION_MAX_ACTIONS}`,
      );
    }
    // AWS cancels a transaction that touches an item another transaction is writing at once, without
    // waiting. Find such a conflict before the full (expression-parsing) validation, from the keys
    // alone, so that a doomed transaction costs the emulator little, as it costs AWS little.
    // One table look-up per table per transaction (dynalite's is asynchronous).
    const tables = new Map<unknown, Promise<Table>>();
    const tableOf = (name: unknown) => {
      let t = tables.get(name);
      if (!t) {
        t = getTable(name);
        tables.set(name, t);
      }
      return t;
    };
    if (inFlight.size > 0) {
      const early = await conflictsByKey(items, tableOf);
      if (early) throw cancelled(early);
    }
    const actions: Action[] = [];
    for (const raw of items) actions.push(await prepare(raw, tableOf));
    if (new Set(actions.map((a) => a.lockKey)).size !== actions.length) {
      throw validation("Transaction request cannot include multiple operations on one item");
    }
    const bytes = actions.reduce((n, a) => n + (a.kind === "Put" ? db.itemSize(a.data.Item as Item) : 0), 0);
    if (bytes > TRANSACTION_MAX_BYTES) {
      throw validation("Transaction size has exceeded the maximum allowed limit of 4 MB");
    }
    const token = typeof body.ClientRequestToken === "string" ? body.ClientRequestToken : undefined;
    const hash = createHash("sha256").update(JSON.stringify(items)).digest("hex");
    if (token) {
      const seen = tokens.get(token, Date.now());
      if (seen !== undefined && seen !== hash) {
        throw new ApiError(
          "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
          "The request uses the same client token as a previous, but non-identical request.",
        );
      }
      if (seen !== undefined) return {};
    }
    // An item that another transaction is writing: cancel at once, as AWS does (no lock waiting).
    if (actions.some((a) => inFlight.has(a.lockKey))) {
      const reasons = actions.map((a) =>
        inFlight.has(a.lockKey)
          ? { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" }
          : { Code: "None" },
      );
      throw cancelled(reasons);
    }
    for (const a of actions) inFlight.add(a.lockKey);
    const releases: (() => void)[] = [];
    try {
      // dynalite's own item locks, in one global order, so its single-item operations queue behind us.
      for (const a of [...actions].sort((x, y) => (x.lockKey < y.lockKey ? -1 : 1))) {
        const release = await new Promise<(cb: () => void) => () => void>((r) => a.itemDb.lock(a.key, r));
        releases.push(release(() => {}));
      }
      await Promise.all(
        actions.map(async (a) => {
          a.existing = await call<Item>((cb) => a.itemDb.get(a.key, cb));
        }),
      );
      const failed = actions.map((a) => db.checkConditional(a.data, a.existing) != null);
      if (failed.some(Boolean)) {
        throw cancelled(
          actions.map((a, i) =>
            failed[i]
              ? {
                  Code: "ConditionalCheckFailed",
                  Message: "The conditional request failed",
                  ...(a.allOld && a.existing ? { Item: a.existing } : {}),
                }
              : { Code: "None" },
          ),
        );
      }
      for (const a of actions) {
        if (a.kind === "ConditionCheck") continue;
        const next = a.kind === "Put" ? (a.data.Item as Item) : null;
        await call<void>((cb) => db.updateIndexes(store, a.table, a.existing, next, cb));
        if (next) await call<void>((cb) => a.itemDb.put(a.key, next, cb));
        else await call<void>((cb) => a.itemDb.del(a.key, cb));
      }
      if (token) tokens.set(token, hash, Date.now());
      return {};
    } finally {
      for (const r of releases) r();
      for (const a of actions) inFlight.delete(a.lockKey);
    }
  }

  /** Per action, whether its item is being written by another transaction; undefined if none is. */
  async function conflictsByKey(
    items: unknown[],
    tableOf: (name: unknown) => Promise<Table>,
  ): Promise<{ Code: string; Message?: string }[] | undefined> {
    const hit: boolean[] = [];
    for (const raw of items) {
      const entry = (raw ?? {}) as Record<string, Item | undefined>;
      const action = entry.Put ?? entry.Delete ?? entry.ConditionCheck ?? entry.Update;
      let lockKey: string | undefined;
      try {
        const table = await tableOf(action?.TableName);
        const source = (entry.Put ? action?.Item : action?.Key) as Item | undefined;
        if (source) lockKey = lockKeyOf(table, db.createKey(source, table));
      } catch {
        return undefined; // the full validation answers
      }
      hit.push(lockKey !== undefined && inFlight.has(lockKey));
    }
    if (!hit.some(Boolean)) return undefined;
    return hit.map((h) =>
      h ? { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" } : { Code: "None" },
    );
  }

  const cancelled = (reasons: { Code: string }[]) =>
    new ApiError(
      "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
      `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(", ")}]`,
      { CancellationReasons: reasons },
    );

  /** For a single-item write: is its item in a transaction right now? */
  async function conflicts(op: string, body: Record<string, unknown>): Promise<boolean> {
    if (inFlight.size === 0) return false;
    try {
      const table = await getTable(body.TableName);
      const source = (op === "PutItem" ? body.Item : body.Key) as Item | undefined;
      if (!source) return false;
      return inFlight.has(lockKeyOf(table, db.createKey(source, table)));
    } catch {
      return false; // dynalite's own validation answers
    }
  }

  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) => {
    let target = req;
    if (body) {
      target = Object.assign(Readable.from([body]), {
        headers: req.headers,
        method: req.method,
        url: req.url,
      }) as unknown as IncomingMessage;
    }
    for (const h of inner) h.call(server, target, res);
  };

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const op = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
    if (op !== "TransactWriteItems" && op !== "PutItem" && op !== "UpdateItem" && op !== "DeleteItem") {
      forward(req, res);
      return;
    }
    void (async () => {
      const raw = await readBody(req);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(raw.toString() || "null") ?? {};
      } catch {
        if (op !== "TransactWriteItems") return forward(req, res, raw);
        return send(res, 400, { __type: "com.amazon.coral.service#SerializationException" });
      }
      if (op !== "TransactWriteItems") {
        if (await conflicts(op, body)) {
          return send(res, 400, {
            __type: "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
            message: "Transaction is ongoing for the item",
          });
        }
        return forward(req, res, raw);
      }
      try {
        send(res, 200, await transact(body));
      } catch (err) {
        if (err instanceof ApiError) send(res, 400, { __type: err.type, message: err.message, ...err.extra });
        else
          send(res, 500, {
            __type: "com.amazonaws.dynamodb.v20120810#InternalServerError",
            message: String(err),
          });
      }
    })().catch((err) => {
      if (!res.headersSent) send(res, 500, { __type: "InternalServerError", message: String(err) });
    });
  });
}
