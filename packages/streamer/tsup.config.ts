import { defineConfig } from "tsup";

// Two builds from one source: the Lambda bundle (one file, AWS SDK left to the nodejs22.x runtime,
// zipped for Terraform) and the library (putResult for users' own steps).
export default defineConfig([
  {
    entry: { index: "src/handler.ts" },
    outDir: "dist/lambda",
    format: ["esm"],
    outExtension: () => ({ js: ".mjs" }),
    platform: "node",
    target: "node20",
    bundle: true,
    noExternal: [/^(?!@aws-sdk\/)/],
    external: [/^@aws-sdk\//],
    minify: true,
    sourcemap: false,
    clean: true,
  },
  {
    entry: { index: "src/index.ts" },
    outDir: "dist/lib",
    format: ["esm"],
    dts: true,
    target: "node20",
    clean: true,
  },
]);
