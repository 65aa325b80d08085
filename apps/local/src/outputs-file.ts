import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * The outputs file (`.local/outputs.json`, the shape of `terraform output -json`) belongs to one
 * running stack at a time: the CLI and the web view find the stack through it. A second stack must
 * not overwrite the file of a running one (and leave it pointing at itself, dead once it stops), and
 * a stack removes its file when it stops. The file records the owner in `local_stack_pid`.
 */

/** Output files written by stacks of this process that are still running. */
const owned = new Set<string>();

/** The error a second stack meets; `code` lets callers tell it from a port clash. */
export class OutputsFileBusyError extends Error {
  readonly code = "StackRunning";
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function ownerOf(path: string): { pid: number; api: string | undefined } | undefined {
  let parsed: Record<string, { value?: unknown } | undefined>;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined; // no file, or not ours to judge: it will be replaced
  }
  const pid = parsed?.local_stack_pid?.value;
  if (typeof pid !== "number" || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  const api = parsed?.api_endpoint?.value;
  return { pid, api: typeof api === "string" ? api : undefined };
}

/**
 * Refuses, before anything starts, when the outputs file belongs to another stack that is still
 * running. A file left by a stack that died (its pid is gone) is taken over.
 */
export function claimOutputsFile(path: string): void {
  const owner = ownerOf(path);
  if (!owner || !isAlive(owner.pid)) return;
  if (owner.pid === process.pid && !owned.has(path)) return; // a leftover of this very process
  throw new OutputsFileBusyError(
    `another local stack is running (pid ${owner.pid}${owner.api ? `, API ${owner.api}` : ""}) and owns ${path}; stop it first (Ctrl-C where it runs, or kill ${owner.pid})`,
  );
}

/** Writes the outputs with this process as their owner; they are removed when the process exits. */
export function writeOutputsFile(path: string, outputs: Record<string, unknown>): void {
  mkdirSync(dirname(path), { recursive: true });
  const withOwner = {
    ...outputs,
    local_stack_pid: { sensitive: false, type: "number", value: process.pid },
  };
  writeFileSync(path, `${JSON.stringify(withOwner, null, 2)}\n`);
  if (!owned.has(path)) process.once("exit", () => releaseOutputsFile(path));
  owned.add(path);
}

/** Removes the outputs file if this process still owns it (stack closed, or process exiting). */
export function releaseOutputsFile(path: string): void {
  if (!owned.delete(path)) return;
  if (ownerOf(path)?.pid !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
