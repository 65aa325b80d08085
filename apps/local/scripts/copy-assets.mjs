// Copies into dist/assets the files the local stack runs that live outside this package: the two
// Lambda bundles (the very index.mjs files zipped for Terraform), the ASL template and the start
// API's default request model. The published package runs these copies; inside the repository the
// stack reads the originals (src/assets.ts), so the copies can never be the only thing tested.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "../../..");
const out = join(here, "../dist/assets");
const files = {
  "steps/index.mjs": "packages/steps/dist/lambda/index.mjs",
  "streamer/index.mjs": "packages/streamer/dist/lambda/index.mjs",
  "workflow.asl.json.tftpl": "infra/modules/workflow/templates/workflow.asl.json.tftpl",
  "workflow-input.schema.json": "infra/modules/start-api/templates/workflow-input.schema.json",
  "default-input.schema.json": "infra/modules/stepstream/templates/default-input.schema.json",
  "start-execution.errors.json": "infra/modules/start-api/templates/start-execution.errors.json",
};
for (const [to, from] of Object.entries(files)) {
  mkdirSync(dirname(join(out, to)), { recursive: true });
  copyFileSync(join(repo, from), join(out, to));
}
