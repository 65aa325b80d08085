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

// Issue 11 finding 7: apps/web/README.md said callers need only lambda:InvokeFunctionUrl. The caller
// policy (root.tftest.hcl) grants both actions, InvokeFunction only via the function URL; every
// README that tells a caller what to be granted must say so too.
test.each(["README.md", "apps/web/README.md"])(
  "%s names both Lambda actions a stream reader needs, InvokeFunction only via the URL",
  (file) => {
    const text = readFileSync(join(INFRA_DIR, "..", file), "utf8");
    expect(text).toContain("lambda:InvokeFunctionUrl");
    expect(text).toMatch(/lambda:InvokeFunction(?!Url)/);
    expect(text).toMatch(/lambda:InvokedViaFunctionUrl|only\s+via\s+(its|the)\s+function\s+URL/i);
  },
);
