export {
  MAX_START_BODY_BYTES,
  type StartApiOptions,
  startApiHandler,
  UNSUPPORTED_MEDIA_TYPE_MESSAGE,
} from "./api.js";
export { renderWorkflowDefinition, WORKFLOW_TEMPLATE_PATH, type WorkflowTemplateVars } from "./asl.js";
export {
  DEVELOPMENT_CREDENTIALS,
  type LocalCredentials,
  MAX_CLOCK_SKEW_MS,
  type SignedRequest,
  verifySigV4,
} from "./auth.js";
export {
  answerForStartError,
  compileRequestModel,
  DEFAULT_REQUEST_MODEL_PATH,
  type JsonSchema,
  loadRequestModel,
  type RequestModel,
  START_ERRORS_PATH,
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
} from "./stack.js";
