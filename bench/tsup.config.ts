import { defineConfig } from "tsup";

// Four entry points: the harness, and the child processes it forks (the local stack, measured from
// outside; the stack's DynamoDB emulator on its own; the AWS sample's reader, the baseline). Workspace packages stay external: the bench
// runs the very builds that ship.
export default defineConfig({
  entry: {
    main: "src/main.ts",
    "stack-child": "src/stack-child.ts",
    "dynamo-child": "src/dynamo-child.ts",
    "baseline-child": "src/baseline-child.ts",
  },
  format: ["esm"],
  platform: "node",
  target: "node20",
  clean: true,
  sourcemap: true,
});
