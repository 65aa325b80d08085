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

/**
 * A file of the repository the local stack runs (a Lambda bundle, a module's template), by its
 * repository path: the original in the repository, the copy under `dist/assets/<same path>` when
 * installed (`scripts/copy-assets.mjs` copies the bundles and every `infra/modules/<module>/templates`
 * JSON document and ASL template). Use it rather than `../../../` paths, which only exist in the
 * repository.
 */
export function repoAsset(path: string): string {
  return REPO_ROOT ? join(REPO_ROOT, path) : join(PACKAGE_DIR, "dist/assets", path);
}

/** The built Lambda bundles: the very `index.mjs` files zipped for Terraform. */
export const STEPS_BUNDLE = repoAsset("packages/steps/dist/lambda/index.mjs");
export const STREAMER_BUNDLE = repoAsset("packages/streamer/dist/lambda/index.mjs");
/** The one ASL template, the very file Terraform renders with `templatefile`. */
export const WORKFLOW_TEMPLATE_PATH = repoAsset("infra/modules/workflow/templates/workflow.asl.json.tftpl");
/** The web view's front end (static files + signing proxy), built by `apps/web`; not in the installed package. */
export const WEB_FRONT_END = REPO_ROOT ? join(REPO_ROOT, "apps/web/dist/server/index.js") : null;

/**
 * Where the stack keeps its state (`data/`, `outputs.json`, `workflow.asl.json`): `.local/` in the
 * repository root, or in the current directory when installed.
 */
export function stateDir(cwd: string = process.cwd()): string {
  return join(REPO_ROOT ?? cwd, ".local");
}
