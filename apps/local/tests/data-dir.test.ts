import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { DataDirError, type LocalStack, startStack } from "../src/index.js";

// Issue 11 finding 9: a data directory the store cannot use made the stack fail with dynalite's bare
// `InternalFailure: The local store failed: Database is closed` and a stack trace, naming neither the
// path nor the cause. Now: one line with the path, the cause and the fix, before anything starts.
//
// "Not writable" must hold as root too (CI may run as root, where chmod stops nothing): then the
// stack runs as `nobody` (uid 65534), for whom the mode bits apply.
const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), "../dist/main.js");
const AS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;
const tmp = mkdtempSync(join(tmpdir(), "stepstream-datadir-"));
chmodSync(tmp, 0o755); // mkdtemp makes it 0700: nobody must reach what is inside
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** `make local` (the built CLI) with `--data-dir dir`, as a user for whom `dir` is not writable. */
function runLocal(dir: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [MAIN, "--data-dir", dir, "--port", "0", "--no-web"], {
      cwd: tmp,
      env: { ...process.env, XDG_CONFIG_HOME: join(tmp, "config") },
      ...(AS_ROOT ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    // A stack that did start would run until stopped: stop it (the assertions then fail).
    const timer = setTimeout(() => child.kill("SIGTERM"), 30_000);
    child.on("error", fail);
    child.on("close", (status) => {
      clearTimeout(timer);
      done({ status, stdout, stderr });
    });
  });
}

/** The one-line refusal: path, cause, fix; no stack trace, no dynalite error. */
function expectOneLine(stderr: string, dir: string, cause: RegExp, fix: RegExp): void {
  const lines = stderr.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  const [line] = lines as [string];
  expect(line).toMatch(/^the local stack could not start: data directory /);
  expect(line).toContain(dir);
  expect(line).toMatch(cause);
  expect(line).toMatch(fix);
  expect(line).not.toMatch(/Database is (closed|not open)|InternalFailure/);
}

describe("a data directory the store cannot use", () => {
  it("a directory that is not writable: one line naming it, EACCES and the fix; exit 1", async () => {
    const dir = join(tmp, "read-only");
    mkdirSync(dir);
    chmodSync(dir, 0o555);
    const r = await runLocal(dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expectOneLine(r.stderr, dir, /is not writable by this user .*\(EACCES: /, /chmod u\+w|--memory/);
  });

  it("an existing store whose files are read-only: the same, from LevelDB's open (its LOCK)", async () => {
    const dir = join(tmp, "read-only-store");
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    for (const f of ["LOCK", "CURRENT", "LOG", "MANIFEST-000002", "000003.log"]) {
      writeFileSync(join(dir, f), "");
      chmodSync(join(dir, f), 0o444);
    }
    // The directory itself is writable by everyone; only the store's files are not.
    const r = await runLocal(dir);
    expect(r.status).toBe(1);
    expectOneLine(r.stderr, dir, /is not writable by this user .*\(EACCES: .*LOCK/, /chmod u\+w/);
  });

  it("a path through a file: DataDirError ENOTDIR from startStack, nothing started", async () => {
    const file = join(tmp, "a-file");
    writeFileSync(file, "");
    const dir = join(file, "data");
    const err = await startStack({ dataDir: dir, port: 0, outputsFile: null }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DataDirError);
    expect(err).toMatchObject({ code: "DataDirUnusable", reason: "ENOTDIR", path: dir });
    expect((err as Error).message).toMatch(/is not a directory: a file is in the way \(ENOTDIR: /);
  });

  describe("a directory another stack holds", () => {
    let first: LocalStack | undefined;
    afterAll(async () => {
      await first?.close();
    });
    it("the second stack is refused with LEVEL_LOCKED and the first keeps its store", async () => {
      const dir = join(tmp, "shared");
      first = await startStack({ dataDir: dir, port: 0, outputsFile: null });
      const err = await startStack({ dataDir: dir, port: 0, outputsFile: null }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DataDirError);
      expect(err).toMatchObject({ reason: "LEVEL_LOCKED", path: dir });
      expect((err as Error).message).toContain("in use by another process");
    });
  });
});
