// Branch 2: writes one result per translated word, as a model would stream its tokens.
import { putResult } from "@stepstream/steps";

const config = { tableName: process.env.TABLE_NAME, resultTtlDays: Number(process.env.RESULT_TTL_DAYS ?? 7) };

export const handler = async ({ executionArn, text, language = "fr" }) => {
  const words = text.split(/\s+/).filter(Boolean).slice(0, 50);
  for (const [i, word] of words.entries()) {
    await putResult({ executionArn, recordKey: `token-${i}`, result: { language, token: word } }, config);
  }
  return { written: words.length };
};
