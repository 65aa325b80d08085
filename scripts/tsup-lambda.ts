import type { Options } from "tsup";

/**
 * The two builds of a Lambda package, from one source: the Lambda bundle (`dist/lambda/index.mjs`,
 * one minified file, zipped for Terraform by `zip-lambda.mjs`) and the library (`dist/lib`, with
 * types) that other packages import.
 *
 * The bundle carries its own AWS SDK, tree-shaken from the SDK's ES modules, rather than importing
 * the nodejs22.x runtime's copy. AWS recommends both halves of that: "To have full control of the
 * dependencies your function uses, package all of your dependencies with your deployment package"
 * and "Minimize your deployment package size to its runtime necessities"
 * (https://docs.aws.amazon.com/lambda/latest/dg/best-practices.html); and, for cold starts, "we
 * recommend bundling your Lambda function, which uses barebones SDK clients with command objects and
 * includes JS SDK v3" (https://aws.amazon.com/blogs/developer/reduce-lambda-cold-start-times-migrate-to-aws-sdk-for-javascript-v3/).
 * Measured here (median of 10 fresh `node` processes importing the bundle, the method of
 * `bench/src/scenarios/artifacts.ts`, load average 0.8): steps 138 → 70 ms, streamer 152 → 80 ms;
 * zips 23 → 131 KB and 25 → 132 KB.
 * - `mainFields: ["module", "main"]`: resolve the SDK's `dist-es` builds, which esbuild can tree-shake
 *   (its CommonJS `dist-cjs` builds cannot be).
 * - `splitting: false`: one file. The SDK's lazily imported credential providers (SSO, STS, …) would
 *   otherwise become ~20 chunk files; the local stack and `@stepstream/local` copy `index.mjs` alone,
 *   and one file zips smaller (131 KB vs 150 KB). esbuild keeps them lazy inside the file.
 * - the banner gives the ES module a `require`, for any bundled CommonJS code that `require`s a Node
 *   built-in at run time (esbuild's ESM output otherwise throws "Dynamic require of … is not supported").
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
      noExternal: [/.*/],
      esbuildOptions(options) {
        options.mainFields = ["module", "main"];
      },
      banner: {
        js: 'import { createRequire as __r } from "node:module"; const require = __r(import.meta.url);',
      },
      splitting: false,
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
