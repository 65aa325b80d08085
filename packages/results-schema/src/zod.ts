/**
 * The one schema library of stepstream: zod's mini build (`zod/mini`, the functional API of zod 4),
 * set up so that it validates and words its messages exactly as classic `zod` does.
 *
 * The classic build registers English messages on first use and cannot be tree-shaken (its methods
 * hang off every schema); in the Lambda bundles it was 450 KB of minified code and about half of the
 * import time. The mini build is tree-shaken to what a schema uses; its messages need a locale,
 * registered here, when `@stepstream/results-schema` is loaded, for every package that defines a
 * schema (steps and streamer import `zod/mini` themselves, by name, so the bundler keeps only what
 * they use; `z` is not re-exported, since a namespace object passed on keeps all of zod, locales
 * included, in a bundle).
 *
 * @see https://zod.dev/packages/mini
 */
import * as z from "zod/mini";
import en from "zod/v4/locales/en.js";

z.config(en());

/**
 * Attaches a description (what `.describe()` does in classic zod): it shows in the JSON Schema.
 *
 * @example
 * ```ts
 * const Offset = described(z.string(), "Opaque position of the record.");
 * ```
 */
export function described<T extends z.ZodMiniType>(schema: T, description: string): T {
  (z.globalRegistry as z.core.$ZodRegistry<{ description?: string }>).add(schema, { description });
  return schema;
}
