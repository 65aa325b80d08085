import { defineConfig } from "tsup";

export default defineConfig({
  // dist/main.js is a guard (src/entry.ts) that loads the program, dist/stack-main.js (src/main.ts).
  entry: { index: "src/index.ts", main: "src/entry.ts", "stack-main": "src/main.ts", cli: "src/cli.ts" },
  format: ["esm"],
  dts: { entry: ["src/index.ts", "src/cli.ts"] },
  clean: true,
  target: "node20",
  platform: "node",
  sourcemap: true,
});
