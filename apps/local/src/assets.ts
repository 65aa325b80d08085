import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** This package's directory (apps/local in the repository, node_modules/@stepstream/local when installed). */
const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * True when running from the repository (the package's sources are beside its build): the stack
 * then runs the originals of its assets, the files Terraform deploys. An installed package has no
 * `src/` and runs the copies its build put in `dist/assets` (scripts/copy-assets.mjs).
 */
export const IN_REPOSITORY = existsSync(join(PACKAGE_DIR, "src/stack.ts"));

/** The repository root, or `null` when installed from the registry or a tarball. */
export const REPO_ROOT: string | null = IN_REPOSITORY ? resolve(PACKAGE_DIR, "../..") : null;

const asset = (inRepo: string, packaged: string) =>
  REPO_ROOT ? join(REPO_ROOT, inRepo) : join(PACKAGE_DIR, "dist/assets", packaged);

/** The built Lambda bundles: the very `index.mjs` files zipped for Terraform. */
export const STEPS_BUNDLE = asset("packages/steps/dist/lambda/index.mjs", "steps/index.mjs");
export const STREAMER_BUNDLE = asset("packages/streamer/dist/lambda/index.mjs", "streamer/index.mjs");
/** The one ASL template, the very file Terraform renders with `templatefile`. */
export const WORKFLOW_TEMPLATE_PATH = asset(
  "infra/modules/workflow/templates/workflow.asl.json.tftpl",
  "workflow.asl.json.tftpl",
);
/** The start API's default request model (a JSON Schema), the document Terraform gives API Gateway. */
export const DEFAULT_REQUEST_MODEL_PATH = asset(
  "infra/modules/start-api/templates/workflow-input.schema.json",
  "workflow-input.schema.json",
);
/**
 * The request model `modules/stepstream` gives a workflow of your own when you give none (a JSON
 * object of at most 64 fields), the local stack's default for your own workflow too.
 */
export const OWN_WORKFLOW_REQUEST_MODEL_PATH = asset(
  "infra/modules/stepstream/templates/default-input.schema.json",
  "default-input.schema.json",
);
/** How the start API answers StartExecution's errors (the table its VTL is rendered from). */
export const START_ERRORS_PATH = asset(
  "infra/modules/start-api/templates/start-execution.errors.json",
  "start-execution.errors.json",
);
/** The web view's front end (static files + signing proxy), built by `apps/web`; not in the installed package. */
export const WEB_FRONT_END = REPO_ROOT ? join(REPO_ROOT, "apps/web/dist/server/index.js") : null;

/**
 * Where the stack keeps its state (`data/`, `outputs.json`, `workflow.asl.json`): `.local/` in the
 * repository root, or in the current directory when installed.
 */
export function stateDir(cwd: string = process.cwd()): string {
  return join(REPO_ROOT ?? cwd, ".local");
}
