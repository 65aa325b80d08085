import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/contract/**/*.test.ts"],
    // terraform console and zip reading are quick, but the first hcl2json call loads a WASM module.
    testTimeout: 60_000,
  },
});
