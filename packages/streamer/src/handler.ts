import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { streamerDynamoClient } from "./client.js";
import { loadStreamerConfig } from "./config.js";
import type { FunctionUrlEvent } from "./request.js";
import { serve } from "./serve.js";
import { awsLambdaGlobal, lambdaSink } from "./sink.js";
import { DynamoResultReader } from "./store.js";

const config = loadStreamerConfig();
const logger = new Logger({ serviceName: "stepstream-streamer" });
const reader = new DynamoResultReader(
  streamerDynamoClient(),
  config.tableName,
  { finalResultField: config.finalResultField },
  Date.now,
  (seq, err) => logger.warn("invalid record passed over", { seq, error: err.message }),
);

const lambda = awsLambdaGlobal();
if (!lambda) {
  throw new Error(
    "the streamer must run in a Lambda runtime with response streaming (awslambda global missing)",
  );
}

/**
 * The Function URL handler (`InvokeMode: RESPONSE_STREAM`, payload format 2.0). Thin: validates,
 * reads by offset, streams; never writes to the table.
 */
export const handler = lambda.streamifyResponse(
  async (event: FunctionUrlEvent, responseStream, context: Context): Promise<void> => {
    const started = Date.now();
    const stopAt = started + context.getRemainingTimeInMillis() - config.deadlineMarginMs;
    logger.addContext(context);
    // Stop reading when the client goes away.
    const gone = new AbortController();
    responseStream.once("close", () => gone.abort());
    const outcome = await serve(
      event,
      config,
      reader,
      lambdaSink(responseStream, lambda),
      stopAt,
      gone.signal,
    );
    const fields = {
      executionArn: outcome.executionArn,
      mode: outcome.mode,
      delivered: outcome.delivered,
      reason: outcome.reason,
      errorCode: outcome.errorCode,
      durationMs: Date.now() - started,
    };
    if (outcome.status === "error") logger.error("stream failed", { ...fields, error: outcome.error });
    else if (outcome.status === "rejected")
      logger.info("request rejected", { ...fields, detail: outcome.error?.message });
    else logger.info("stream ended", fields);
    logger.resetKeys();
  },
);
