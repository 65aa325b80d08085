import { defineConfig } from "tsup";

// The static + signing proxy front end the local stack serves the web view with.
export default defineConfig({
  entry: { index: "src/server/index.ts" },
  outDir: "dist/server",
  format: ["esm"],
  dts: true,
  clean: true,
  target: "node20",
  platform: "node",
  sourcemap: true,
});
