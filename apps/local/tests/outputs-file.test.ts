import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startStack } from "../src/index.js";

// A second `make local` must not overwrite the outputs file of a running stack (leaving it pointing
// at a stack that is gone once the second one stops); a stack removes its file when it stops.

const dir = mkdtempSync(join(tmpdir(), "stepstream-outputs-"));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill();
  rmSync(dir, { recursive: true, force: true });
});
const read = (path: string) => JSON.parse(readFileSync(path, "utf8"));
const opts = (outputsFile: string) => ({ memory: true, port: 0, outputsFile, web: false });

describe("the outputs file of a running stack", () => {
  it("a second stack refuses to start while the first runs, and the first removes the file on close", async () => {
    const file = join(dir, "a.json");
    const first = await startStack(opts(file));
    try {
      expect(read(file).local_stack_pid.value).toBe(process.pid);
      await expect(startStack(opts(file))).rejects.toThrow(
        `another local stack is running (pid ${process.pid}, API ${first.apiEndpoint}) and owns ${file}; stop it first`,
      );
      expect(read(file).api_endpoint.value).toBe(first.apiEndpoint);
    } finally {
      await first.close();
    }
    expect(existsSync(file)).toBe(false);
  });

  it("refuses when another process that is alive owns the file", async () => {
    const file = join(dir, "b.json");
    const other = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    children.push(other);
    writeFileSync(
      file,
      JSON.stringify({
        api_endpoint: { value: "http://127.0.0.1:8750/" },
        local_stack_pid: { value: other.pid },
      }),
    );
    await expect(startStack(opts(file))).rejects.toMatchObject({
      code: "StackRunning",
      message: expect.stringContaining(`(pid ${other.pid}, API http://127.0.0.1:8750/)`),
    });
    expect(read(file).local_stack_pid.value).toBe(other.pid);
  });

  it("takes over a file left by a stack that died", async () => {
    const file = join(dir, "c.json");
    const dead = spawnSync(process.execPath, ["-e", "0"]).pid;
    writeFileSync(
      file,
      JSON.stringify({ api_endpoint: { value: "http://dead/" }, local_stack_pid: { value: dead } }),
    );
    const stack = await startStack(opts(file));
    try {
      expect(read(file).api_endpoint.value).toBe(stack.apiEndpoint);
    } finally {
      await stack.close();
    }
    expect(existsSync(file)).toBe(false);
  });
});
