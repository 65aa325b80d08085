import { mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

/**
 * The local DynamoDB store's data directory cannot be used: it cannot be created, is not a
 * directory, is not writable (permissions, a read-only file system, a full disk), or its LevelDB
 * store is locked by another process or unreadable. The message is one line: the path, the cause
 * (with its errno code) and what to do.
 */
export class DataDirError extends Error {
  override readonly name = "DataDirError";
  readonly code = "DataDirUnusable";
  constructor(
    readonly path: string,
    /** The system's or LevelDB's code for the cause: `EACCES`, `EROFS`, `ENOSPC`, `LEVEL_LOCKED`, … */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const ALTERNATIVES = "choose another directory (--data-dir DIR) or keep the store in memory (--memory)";

/** What is wrong with the directory, in words, and the fix for that cause (besides the alternatives). */
function explain(code: string): [what: string, fix?: string] {
  const user = typeof process.getuid === "function" ? ` (uid ${process.getuid()})` : "";
  switch (code) {
    case "EACCES":
    case "EPERM":
      return [`is not writable by this user${user}`, "make it writable (chmod u+w, or chown it)"];
    case "EROFS":
      return ["is not writable: it is on a read-only file system", "remount it read-write"];
    case "ENOSPC":
    case "EDQUOT":
      return ["is not writable: the disk is full", "free some space"];
    case "ENOTDIR":
    case "EEXIST":
      return ["is not a directory: a file is in the way", "move the file"];
    case "LEVEL_LOCKED":
      return ["is in use by another process (another local stack?)", "stop it"];
    case "LEVEL_CORRUPTION":
      return ["holds a damaged store", "move the directory aside to start empty"];
    default:
      return ["cannot be used"];
  }
}

function unusable(dir: string, err: unknown): DataDirError {
  const e = err as { code?: string; message?: string };
  // Node's messages start with their code ("EACCES: permission denied, open '…'"): say it once.
  const detail = String(e.message ?? err)
    .replace(/\s+/g, " ")
    .replace(/^[A-Z_]+: /, "");
  // LevelDB reports errno as text ("IO error: …/LOCK: Permission denied"): name it as the system would.
  let code = e.code ?? "UNKNOWN";
  if (code === "LEVEL_IO_ERROR") {
    if (/permission denied/i.test(detail)) code = "EACCES";
    else if (/read-only file system/i.test(detail)) code = "EROFS";
    else if (/no space left/i.test(detail)) code = "ENOSPC";
  }
  const [what, fix] = explain(code);
  return new DataDirError(
    dir,
    code,
    `data directory ${dir} ${what} (${code}: ${detail}): ${fix ? `${fix}, or ` : ""}${ALTERNATIVES}`,
  );
}

/**
 * Makes sure the store can live in `dir` before the stack starts, so that a bad directory is one
 * clear error naming the path and the cause instead of dynalite's `Database is closed` at the first
 * request: creates it, writes and removes a probe file (EACCES, EROFS, ENOSPC, ENOTDIR), then opens
 * and closes the LevelDB store dynalite will open there (a lock held by another process, read-only or
 * damaged store files).
 *
 * @throws {DataDirError}
 */
export async function prepareDataDir(dir: string): Promise<void> {
  try {
    mkdirSync(dir, { recursive: true });
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is a file`), { code: "ENOTDIR" });
  } catch (err) {
    throw unusable(dir, err);
  }
  const probe = join(dir, `.stepstream-write-check-${process.pid}`);
  try {
    writeFileSync(probe, "stepstream checks that this directory is writable\n", { flag: "wx" });
  } catch (err) {
    throw unusable(dir, err);
  } finally {
    rmSync(probe, { force: true });
  }
  const fromDynalite = createRequire(createRequire(import.meta.url).resolve("dynalite"));
  const { Level } = fromDynalite("level") as {
    Level: new (path: string, options: object) => { open(): Promise<void>; close(): Promise<void> };
  };
  const db = new Level(dir, { valueEncoding: "json" });
  try {
    await db.open();
  } catch (err) {
    throw unusable(dir, (err as { cause?: unknown }).cause ?? err);
  } finally {
    await db.close().catch(() => undefined);
  }
}
