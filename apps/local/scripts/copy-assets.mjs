// Copies into dist/assets the files the local stack runs that live outside this package, at their
// repository paths: the two Lambda bundles (the very index.mjs files zipped for Terraform) and the
// Terraform modules' templates (the ASL, the request models, the start API's error table). The
// published package runs these copies; inside the repository the stack reads the originals
// (src/assets.ts `repoAsset`), so the copies are never the only thing tested.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "../../..");
const out = join(here, "../dist/assets");
const files = ["packages/steps/dist/lambda/index.mjs", "packages/streamer/dist/lambda/index.mjs"];
// Every template of every module (JSON documents and ASL templates; not the VTL, which only API
// Gateway runs).
const modules = join(repo, "infra/modules");
for (const m of readdirSync(modules)) {
  const dir = join(modules, m, "templates");
  if (!existsSync(dir)) continue;
  for (const f of readdirSync(dir)) {
    if (f.endsWith(".json") || f.endsWith(".json.tftpl")) files.push(`infra/modules/${m}/templates/${f}`);
  }
}
for (const rel of files) {
  mkdirSync(dirname(join(out, rel)), { recursive: true });
  copyFileSync(join(repo, rel), join(out, rel));
}
