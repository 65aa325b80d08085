import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

// A missing build (dependencies not installed, a workspace package's dist not built) gives one line
// naming the fix, not Node's ERR_MODULE_NOT_FOUND stack. Simulated with the built CLI copied where
// nothing it imports can be found.

const here = dirname(fileURLToPath(import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "stepstream-cli-unbuilt-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the CLI without its build", () => {
  it("prints one line saying to run make build, and exits 1", () => {
    mkdirSync(join(tmp, "dist"));
    for (const f of ["main.js", "cli.js"]) copyFileSync(resolve(here, "../dist", f), join(tmp, "dist", f));
    const r = spawnSync(process.execPath, [join(tmp, "dist/main.js"), "config"], {
      cwd: tmp,
      encoding: "utf8",
    });
    expect(r.status).toBe(1);
    expect(r.stderr).not.toContain("ERR_MODULE_NOT_FOUND");
    expect(r.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^stepstream: not built \(\S+ is missing\); run: make build$/),
    ]);
  });
});
