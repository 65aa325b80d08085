/**
 * The READMEs' inputs and outputs tables are generated from the HCL (scripts/docs.mjs, in the
 * terraform-docs format): they must match it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { expect, test } from "vitest";
// @ts-expect-error: a plain ESM script without type declarations.
import { DOC_DIRS, normalizeTables, renderReadme } from "../../scripts/docs.mjs";
import { INFRA_DIR } from "./hcl.js";

test.each((DOC_DIRS as string[]).map((d) => [relative(INFRA_DIR, d) || "."]))(
  "%s/README.md has up-to-date inputs and outputs tables",
  async (dir) => {
    const { text, rendered } = await renderReadme(join(INFRA_DIR, dir));
    expect(normalizeTables(text) === normalizeTables(rendered), "run: node infra/scripts/docs.mjs").toBe(
      true,
    );
  },
);

test("the docs check fails on a README whose tables miss a variable", async () => {
  const dir = mkdtempSync(join(tmpdir(), "stepstream-docs-"));
  try {
    cpSync(join(INFRA_DIR, "modules/results-table"), dir, { recursive: true });
    const readme = join(dir, "README.md");
    writeFileSync(readme, readFileSync(readme, "utf8").replace(/^\| `tags` .*\n/m, ""));
    const { text, rendered } = await renderReadme(dir);
    expect(normalizeTables(text)).not.toBe(normalizeTables(rendered));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
