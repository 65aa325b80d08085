// `dist/main.js`, the command users run: it loads the program (`dist/cli.js`, from `src/main.ts`)
// and turns a missing build (a workspace package's `dist` not built yet, or dependencies not
// installed) into one line naming the command that fixes it, instead of Node's module-resolution
// stack trace.
import { isAbsolute, relative } from "node:path";

const program = "./cli.js";
try {
  await import(program);
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  if (e?.code !== "ERR_MODULE_NOT_FOUND") throw err;
  const found = /Cannot find (?:module|package) '([^']+)'/.exec(e.message)?.[1];
  const missing = found ? (isAbsolute(found) ? relative(process.cwd(), found) : found) : "a module";
  process.stderr.write(`stepstream: not built (${missing} is missing); run: make build\n`);
  process.exit(1);
}
