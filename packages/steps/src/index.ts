export {
  HeadMemory,
  keyItemPartition,
  MAX_RECORDS_PER_TRANSACTION,
  type PutResultInput,
  type PutResultOutput,
  putResult,
  putResults,
  type ResultLogConfig,
} from "./put-result.js";
export {
  planWorkflow,
  sanitizeError,
  simulatedResult,
  stepRecordKey,
  TERMINAL_RECORD_KEY,
  WORKFLOW_LIMITS,
  type WorkflowInput,
  WorkflowInputSchema,
  type WorkflowPlan,
} from "./workflow.js";
