import { defineConfig } from "tsup";

export default defineConfig({
  // dist/main.js is a guard (src/entry.ts) that loads the program, dist/cli.js (src/main.ts).
  entry: { main: "src/entry.ts", cli: "src/main.ts" },
  format: ["esm"],
  clean: true,
  target: "node20",
  platform: "node",
  banner: { js: "#!/usr/bin/env node" },
});
