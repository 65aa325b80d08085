import { DEFAULT_FINAL_RESULT_FIELD } from "@stepstream/results-schema";
import * as z from "zod/mini";

const EnvSchema = z.object({
  TABLE_NAME: z.string().check(z.minLength(3), z.maxLength(255)),
  RESULT_TTL_DAYS: z._default(z.coerce.number().check(z.positive(), z.maximum(3650)), 7),
  FINAL_RESULT_FIELD_NAME: z._default(
    z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/)),
    DEFAULT_FINAL_RESULT_FIELD,
  ),
  // The step function's reserved concurrency, when one is set (Terraform): the Plan step refuses a
  // higher `concurrency`.
  MAX_CONCURRENCY: z.optional(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(1000))),
});

/** The step Lambda's configuration, from its environment. */
export interface StepsConfig {
  tableName: string;
  resultTtlDays: number;
  finalResultField: string;
  /** Highest `concurrency` a run may ask for (the step function's reserved concurrency), if any. */
  maxConcurrency?: number;
}

/** Parses and validates the environment once (at cold start); throws a readable error. */
export function loadStepsConfig(env: NodeJS.ProcessEnv = process.env): StepsConfig {
  const r = EnvSchema.safeParse(env);
  if (!r.success) {
    throw new Error(
      `invalid step Lambda configuration: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  return {
    tableName: r.data.TABLE_NAME,
    resultTtlDays: r.data.RESULT_TTL_DAYS,
    finalResultField: r.data.FINAL_RESULT_FIELD_NAME,
    ...(r.data.MAX_CONCURRENCY === undefined ? {} : { maxConcurrency: r.data.MAX_CONCURRENCY }),
  };
}
