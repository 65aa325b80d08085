import type { Options } from "tsup";

/**
 * The two builds of a Lambda package, from one source: the Lambda bundle (`dist/lambda/index.mjs`,
 * one minified file, the AWS SDK left to the nodejs22.x runtime, zipped for Terraform by
 * `zip-lambda.mjs`) and the library (`dist/lib`, with types) that other packages import.
 */
export function lambdaPackageBuilds(): Options[] {
  return [
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
  ];
}
