// The terminal record: final once both branches are done, or the error a Catch hands over.
import { putResult } from "@stepstream/steps";

const config = { tableName: process.env.TABLE_NAME, resultTtlDays: Number(process.env.RESULT_TTL_DAYS ?? 7) };

export const handler = async ({ executionArn, branches, error }) => {
  if (error) {
    const type = error.Error === "States.Timeout" ? "timeout" : "error";
    return putResult(
      {
        executionArn,
        recordKey: "$terminal",
        type,
        error: { Error: String(error.Error), Cause: String(error.Cause ?? "") },
      },
      config,
    );
  }
  const written = branches.reduce((n, b) => n + b.written, 0);
  return putResult({ executionArn, recordKey: "$terminal", type: "final", result: { written } }, config);
};
