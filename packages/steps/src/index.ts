export { type PutResultInput, type PutResultOutput, putResult, type ResultLogConfig } from "./put-result.js";
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
