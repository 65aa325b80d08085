#!/usr/bin/env node
// Writes the inputs and outputs tables of every module's README (and infra/README.md) from the HCL,
// between <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS --> (the terraform-docs convention; the tool
// itself cannot be installed here). A contract test fails when a README is out of date.
//
// Usage: node infra/scripts/docs.mjs [--check]
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "@cdktf/hcl2json";

const INFRA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const DOC_DIRS = [
  INFRA_DIR,
  ...["results-table", "workflow", "start-api", "stream-url", "lambda", "stepstream"].map((m) =>
    join(INFRA_DIR, "modules", m),
  ),
  join(INFRA_DIR, "examples", "parallel-writers"),
];
const BEGIN = "<!-- BEGIN_TF_DOCS -->";
const END = "<!-- END_TF_DOCS -->";

const cell = (s) => String(s).replaceAll("|", "\\|").replaceAll("\n", " ");
const code = (s) => `\`${String(s).replaceAll("`", "'")}\``;
const unwrap = (t) => (typeof t === "string" ? t.replace(/^\$\{(.*)\}$/s, "$1") : "any");

/** The markdown tables for one module directory. */
export async function tablesFor(dir) {
  const variables = {};
  const outputs = {};
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith(".tf"))
    .sort()) {
    const json = await parse(f, readFileSync(join(dir, f), "utf8"));
    for (const [k, v] of Object.entries(json.variable ?? {})) variables[k] = v[0];
    for (const [k, v] of Object.entries(json.output ?? {})) outputs[k] = v[0];
  }
  const lines = [
    "## Inputs",
    "",
    "| Name | Description | Type | Default | Required |",
    "|---|---|---|---|:---:|",
  ];
  for (const name of Object.keys(variables).sort()) {
    const v = variables[name];
    const required = !("default" in v);
    const def = required ? "n/a" : code(JSON.stringify(v.default));
    lines.push(
      `| ${code(name)} | ${cell(v.description ?? "")} | ${code(unwrap(v.type))} | ${cell(def)} | ${required ? "yes" : "no"} |`,
    );
  }
  lines.push("", "## Outputs", "", "| Name | Description |", "|---|---|");
  for (const name of Object.keys(outputs).sort())
    lines.push(`| ${code(name)} | ${cell(outputs[name].description ?? "")} |`);
  return lines.join("\n");
}

/**
 * A markdown text with table padding removed, so a table Biome has aligned compares equal to the
 * generated one.
 */
export function normalizeTables(text) {
  return text
    .split("\n")
    .map((line) => {
      if (!line.startsWith("|")) return line;
      const cells = line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim())
        .map((c) => (/^:?-+:?$/.test(c) ? c.replace(/-+/, "---") : c));
      return `| ${cells.join(" | ")} |`;
    })
    .join("\n");
}

/** The README with its tables replaced. */
export async function renderReadme(dir) {
  const path = join(dir, "README.md");
  const text = readFileSync(path, "utf8");
  const start = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (start < 0 || end < start)
    throw new Error(`${relative(INFRA_DIR, path)} has no ${BEGIN} … ${END} section`);
  return {
    path,
    text,
    rendered: `${text.slice(0, start + BEGIN.length)}\n${await tablesFor(dir)}\n${text.slice(end)}`,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  let stale = 0;
  const written = [];
  for (const dir of DOC_DIRS) {
    const { path, text, rendered } = await renderReadme(dir);
    if (normalizeTables(rendered) === normalizeTables(text)) continue;
    if (check) {
      console.error(`${relative(INFRA_DIR, path)} is out of date: run node infra/scripts/docs.mjs`);
      stale++;
    } else {
      writeFileSync(path, rendered);
      written.push(path);
      console.log(`updated ${relative(INFRA_DIR, path)}`);
    }
  }
  // Align the tables as the repository's formatter does, so `biome check` stays clean.
  const biome = join(INFRA_DIR, "../node_modules/.bin/biome");
  if (written.length > 0 && existsSync(biome))
    spawnSync(biome, ["format", "--write", ...written], { stdio: "ignore" });
  process.exit(stale > 0 ? 1 : 0);
}
