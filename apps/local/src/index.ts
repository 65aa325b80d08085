export {
  MAX_START_BODY_BYTES,
  type StartApiOptions,
  startApiHandler,
  UNSUPPORTED_MEDIA_TYPE_MESSAGE,
} from "./api.js";
export {
  renderTemplate,
  renderWorkflowDefinition,
  WORKFLOW_TEMPLATE_PATH,
  type WorkflowTemplateVars,
} from "./asl.js";
export {
  DEFAULT_REQUEST_MODEL_PATH,
  IN_REPOSITORY,
  OWN_WORKFLOW_REQUEST_MODEL_PATH,
  START_ERRORS_PATH,
} from "./assets.js";
export {
  DEVELOPMENT_CREDENTIALS,
  type LocalCredentials,
  MAX_CLOCK_SKEW_MS,
  type SignedRequest,
  verifySigV4,
} from "./auth.js";
export { DataDirError, prepareDataDir } from "./data-dir.js";
export { type DynamoEmulator, ensureResultsTable, type OperationCounts, startDynamo } from "./dynamo.js";
export {
  answerForStartError,
  compileRequestModel,
  type JsonSchema,
  loadRequestModel,
  type RequestModel,
} from "./request-model.js";
export {
  DEFAULT_PORT,
  type LocalStack,
  REPO_ROOT,
  STEPS_BUNDLE,
  STREAMER_BUNDLE,
  type StackOptions,
  type StreamerSettings,
  startStack,
  userConfigPath,
} from "./stack.js";
export { functionNameOf, UserWorkflowError, type UserWorkflowOptions } from "./user-workflow.js";
