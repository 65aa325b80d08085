#!/usr/bin/env node
// `make demo`: the local stack in this process (DynamoDB in memory, free ports), then the CLI as a
// real process, its output straight to this terminal, so the 5 results stream in live. Exits with the
// CLI's code after stopping the stack, and prints the wall time.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const t0 = performance.now();
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const stackEntry = join(root, "apps/local/dist/index.js");
const cli = join(root, "apps/cli/dist/main.js");
for (const built of [stackEntry, cli]) {
  if (!existsSync(built)) {
    console.error(`demo: ${relative(root, built)} is missing: run make build first (make demo does)`);
    process.exit(2);
  }
}
const outputsFile = join(root, ".local/demo-outputs.json");
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

const { startStack } = await import(pathToFileURL(stackEntry).href);
const stack = await startStack({ memory: true, port: 0, outputsFile });
const up = performance.now();
console.log(
  `demo: local stack up in ${Math.round(up - t0)} ms (DynamoDB in memory, API ${stack.apiEndpoint})`,
);
console.log(`demo: node apps/cli/dist/main.js run --outputs ${relative(root, outputsFile)}\n`);

const child = spawn(process.execPath, [cli, "run", "--outputs", outputsFile], {
  stdio: "inherit",
  cwd: root,
});
// Ctrl-C reaches the CLI too (same process group): it stops and prints how to resume; we wait for it.
const ignore = () => {};
process.on("SIGINT", ignore);
process.on("SIGTERM", () => child.kill("SIGTERM"));
const code = await new Promise((resolve) => {
  child.on("error", (err) => {
    console.error(`demo: could not start the CLI: ${err.message}`);
    resolve(1);
  });
  child.on("exit", (c, signal) => resolve(c ?? (signal ? 130 : 1)));
});
const ran = performance.now();
await stack.close();
process.off("SIGINT", ignore);
console.log(
  `\ndemo: wall time ${seconds(performance.now() - t0)} (stack start ${seconds(up - t0)}, run ${seconds(ran - up)}); exit ${code}`,
);
process.exit(code);
