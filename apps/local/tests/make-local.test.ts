import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// `make local` (and demo, bench) build first; a cached turbo build replays every package's log
// (~200 lines, measured) before the stack's banner unless told to show errors only (12 lines).
// `make -n` prints the commands without running them.

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

describe("make local's build step", () => {
  it.each(["local", "demo", "bench", "build"])("make %s builds with --output-logs=errors-only", (target) => {
    const r = spawnSync("make", ["-n", "--no-print-directory", target], { cwd: ROOT, encoding: "utf8" });
    expect(r.status).toBe(0);
    const turbo = r.stdout.split("\n").filter((l) => l.includes("turbo run build"));
    expect(turbo.length).toBeGreaterThan(0);
    for (const line of turbo) expect(line).toContain("--output-logs=errors-only");
  });
});
