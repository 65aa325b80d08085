export {
  renderTemplate,
  renderWorkflowDefinition,
  WORKFLOW_TEMPLATE_PATH,
  type WorkflowTemplateVars,
} from "./asl.js";
export { DEFAULT_REQUEST_MODEL_PATH, IN_REPOSITORY } from "./assets.js";
export {
  DEVELOPMENT_CREDENTIALS,
  type LocalCredentials,
  MAX_CLOCK_SKEW_MS,
  type SignedRequest,
  verifySigV4,
} from "./auth.js";
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
