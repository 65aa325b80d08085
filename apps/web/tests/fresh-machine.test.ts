import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

// `make test` on a fresh machine (issue 12 item 6): scripts/preflight.sh, run first by `make test`,
// finds or installs chromium and finds terraform, or stops at once with one line naming the one
// command to run. Simulated here with a PATH that holds only what each case puts there.

const PREFLIGHT = new URL("../../../scripts/preflight.sh", import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An empty directory to serve as the whole PATH, with the given executables in it. */
function binDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "stepstream-preflight-"));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  }
  return dir;
}

function preflight(env: Record<string, string>) {
  const started = Date.now();
  const r = spawnSync("/bin/bash", [PREFLIGHT], { env: { HOME: tmpdir(), ...env }, encoding: "utf8" });
  const errLines = r.stderr.split("\n").filter(Boolean);
  return { status: r.status, stdout: r.stdout, errLines, ms: Date.now() - started };
}

describe("make test's preflight on a machine without chromium or terraform", () => {
  it("STEPSTREAM_CHROMIUM pointing nowhere: stops at once with one line", () => {
    const r = preflight({ PATH: binDir(), STEPSTREAM_CHROMIUM: "/nowhere/chromium" });
    expect(r.status).toBe(1);
    expect(r.errLines).toEqual([
      "make test: STEPSTREAM_CHROMIUM=/nowhere/chromium is not an executable file; point it at a chromium binary, or unset it to use chromium from PATH",
    ]);
    expect(r.ms).toBeLessThan(5000);
  });

  it("no chromium and no apt-get: one line saying to install it and set STEPSTREAM_CHROMIUM", () => {
    const r = preflight({ PATH: binDir() });
    expect(r.status).toBe(1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toContain("STEPSTREAM_CHROMIUM=/path/to/chromium make test");
  });

  it("no chromium, apt-get failing: one line naming the apt-get command", () => {
    const path = binDir({ "apt-get": "echo 'E: Unable to locate package chromium' >&2; exit 100" });
    const r = preflight({ PATH: path, TMPDIR: path });
    expect(r.status).toBe(1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toContain(
      isRoot ? "; run: apt-get install -y chromium" : "; run: sudo apt-get install -y chromium",
    );
  });

  it.runIf(isRoot)("as root with apt-get, installs chromium itself and goes on", () => {
    const path = binDir();
    writeFileSync(
      join(path, "apt-get"),
      `#!/bin/sh\ncase "$1" in install) printf '#!/bin/sh\\n' > "${path}/chromium"; /bin/chmod +x "${path}/chromium";; esac\n`,
    );
    chmodSync(join(path, "apt-get"), 0o755);
    const r = preflight({ PATH: path, TMPDIR: path, STEPSTREAM_SKIP_TERRAFORM: "1" });
    expect(r.errLines).toEqual([]);
    expect(r.stdout).toContain("installing Debian's chromium with apt-get");
    expect(r.status).toBe(0);
  });

  it("chromium found but no terraform: one line, unless STEPSTREAM_SKIP_TERRAFORM=1", () => {
    const path = binDir({ chromium: "exit 0" });
    const r = preflight({ PATH: path });
    expect(r.status).toBe(1);
    expect(r.errLines).toHaveLength(1);
    expect(r.errLines[0]).toContain("terraform not found on PATH");
    expect(r.errLines[0]).toContain("STEPSTREAM_SKIP_TERRAFORM=1 make test");
    expect(preflight({ PATH: path, STEPSTREAM_SKIP_TERRAFORM: "1" }).status).toBe(0);
    const both = preflight({ PATH: binDir({ chromium: "exit 0", terraform: "exit 0" }) });
    expect(both.status).toBe(0);
    expect(both.errLines).toEqual([]);
  });
});
