import { defineConfig } from "tsup";

// Three entry points: the harness, and the two child processes it forks (the local stack, measured
// from outside; the AWS sample's reader, the baseline). Workspace packages stay external: the bench
// runs the very builds that ship.
export default defineConfig({
  entry: {
    main: "src/main.ts",
    "stack-child": "src/stack-child.ts",
    "baseline-child": "src/baseline-child.ts",
  },
  format: ["esm"],
  platform: "node",
  target: "node20",
  clean: true,
  sourcemap: true,
});
