// Branch 1: writes one result per sentence of a summary, as it produces them.
// Build: npx esbuild src/summarize.mjs --bundle --platform=node --format=esm --outfile=dist/summarize/index.mjs
//        && (cd dist/summarize && zip ../summarize.zip index.mjs)
import { putResult } from "@stepstream/steps";

const config = { tableName: process.env.TABLE_NAME, resultTtlDays: Number(process.env.RESULT_TTL_DAYS ?? 7) };

export const handler = async ({ executionArn, text }) => {
  const sentences = text.split(/(?<=[.!?])\s+/).slice(0, 3);
  for (const [i, sentence] of sentences.entries()) {
    // The record key is fixed by the input: a retried invocation writes nothing twice.
    await putResult({ executionArn, recordKey: `summary-${i}`, result: { summary: sentence } }, config);
  }
  return { written: sentences.length };
};
