import { DEFAULT_FINAL_RESULT_FIELD } from "@stepstream/results-schema";
import { z } from "zod";

const EnvSchema = z.object({
  TABLE_NAME: z.string().min(3).max(255),
  RESULT_TTL_DAYS: z.coerce.number().positive().max(3650).default(7),
  FINAL_RESULT_FIELD_NAME: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/)
    .default(DEFAULT_FINAL_RESULT_FIELD),
  // The step function's reserved concurrency, when one is set (Terraform): the Plan step refuses a
  // higher `concurrency`.
  MAX_CONCURRENCY: z.coerce.number().int().min(1).max(1000).optional(),
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
