/**
 * Reads Terraform HCL the way a static scanner does: `@cdktf/hcl2json` for the structure, and the
 * raw text for what the JSON loses (comments: `# checkov:skip=…`, `#trivy:ignore:…`, and the
 * reasons written next to a `Resource "*"`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "@cdktf/hcl2json";

/** infra/ */
export const INFRA_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The repository root. */
export const REPO_DIR = resolve(INFRA_DIR, "..");
/** Bad fixtures: each breaks one rule on purpose, to prove the rule's check fails. */
export const FIXTURES_DIR = join(INFRA_DIR, "tests/contract/fixtures");

/** The modules that `terraform apply` deploys (root first). */
export const REAL_MODULE_DIRS = [
  INFRA_DIR,
  join(INFRA_DIR, "modules/results-table"),
  join(INFRA_DIR, "modules/workflow"),
  join(INFRA_DIR, "modules/start-api"),
  join(INFRA_DIR, "modules/stream-url"),
  join(INFRA_DIR, "modules/lambda"),
  join(INFRA_DIR, "modules/stepstream"),
];

// biome-ignore lint/suspicious/noExplicitAny: hcl2json returns untyped JSON.
export type Json = any;

/** A `resource` or `data` block, with its body (hcl2json) and the comments around it (raw text). */
export interface Block {
  kind: "resource" | "data";
  type: string;
  name: string;
  /** `aws_lambda_function.this`, or `data.aws_iam_policy_document.this`. */
  address: string;
  body: Json;
  module: Module;
  file: string;
  /** 1-based line numbers of the block's header and closing brace. */
  startLine: number;
  endLine: number;
  /** `# checkov:skip=<ID>:<reason>` comments inside the block: ID -> reason. */
  checkovSkips: Map<string, string>;
  /** `#trivy:ignore:<ID>` comments directly above the block. */
  trivyIgnores: Set<string>;
}

export interface Module {
  /** Directory relative to infra/ (`.` for the root module), or a fixture file's name. */
  name: string;
  dir: string;
  files: { path: string; text: string; json: Json }[];
  blocks: Block[];
  /** Variable defaults (null when a variable has no default). */
  variables: Map<string, unknown>;
  /** `module` blocks: name -> body. */
  moduleCalls: Map<string, Json>;
}

const HEADER = /^\s*(resource|data)\s+"([^"]+)"\s+"([^"]+)"\s*\{/;

/**
 * Finds the line of the brace closing the block opened on `startIndex` (0-based), skipping
 * strings, heredocs and comments.
 */
function blockEnd(lines: string[], startIndex: number): number {
  let depth = 0;
  let heredoc: string | null = null;
  let inBlockComment = false;
  for (let i = startIndex; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (heredoc) {
      if (line.trim() === heredoc) heredoc = null;
      continue;
    }
    let inString = false;
    for (let c = 0; c < line.length; c++) {
      const ch = line[c];
      const next = line[c + 1];
      if (inBlockComment) {
        if (ch === "*" && next === "/") {
          inBlockComment = false;
          c++;
        }
        continue;
      }
      if (inString) {
        if (ch === "\\") c++;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === "#" || (ch === "/" && next === "/")) break;
      if (ch === "/" && next === "*") {
        inBlockComment = true;
        c++;
        continue;
      }
      if (ch === '"') {
        inString = true;
        continue;
      }
      if (ch === "<" && next === "<") {
        const m = /^<<-?([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(line.slice(c));
        if (m?.[1]) {
          heredoc = m[1];
          break;
        }
      }
      if (ch === "{") depth++;
      if (ch === "}") {
        depth--;
        if (depth === 0) return i;
      }
    }
  }
  throw new Error(`unbalanced braces in block starting at line ${startIndex + 1}`);
}

const CHECKOV_SKIP = /#\s*checkov:skip=([A-Z0-9_]+)(?::(.*))?$/;
const TRIVY_IGNORE = /^\s*#\s*trivy:ignore:([A-Z]+-[A-Z]+-[0-9]+)\s*$/;

function rawBlocks(text: string) {
  const lines = text.split("\n");
  const found: {
    kind: "resource" | "data";
    type: string;
    name: string;
    startLine: number;
    endLine: number;
    checkovSkips: Map<string, string>;
    trivyIgnores: Set<string>;
  }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = HEADER.exec(lines[i] ?? "");
    if (!m) continue;
    const end = blockEnd(lines, i);
    const checkovSkips = new Map<string, string>();
    for (let j = i + 1; j < end; j++) {
      const s = CHECKOV_SKIP.exec(lines[j] ?? "");
      if (s?.[1]) checkovSkips.set(s[1], (s[2] ?? "").trim());
    }
    const trivyIgnores = new Set<string>();
    for (let j = i - 1; j >= 0 && /^\s*#/.test(lines[j] ?? ""); j--) {
      const t = TRIVY_IGNORE.exec(lines[j] ?? "");
      if (t?.[1]) trivyIgnores.add(t[1]);
    }
    found.push({
      kind: m[1] as "resource" | "data",
      type: m[2] as string,
      name: m[3] as string,
      startLine: i + 1,
      endLine: end + 1,
      checkovSkips,
      trivyIgnores,
    });
  }
  return found;
}

/** Parses the given `.tf` files as one module. */
export async function loadFiles(name: string, dir: string, paths: string[]): Promise<Module> {
  const mod: Module = { name, dir, files: [], blocks: [], variables: new Map(), moduleCalls: new Map() };
  for (const path of paths) {
    const text = readFileSync(path, "utf8");
    const json = await parse(basename(path), text);
    mod.files.push({ path, text, json });
    for (const raw of rawBlocks(text)) {
      const tree = raw.kind === "resource" ? json.resource : json.data;
      const body = tree?.[raw.type]?.[raw.name]?.[0];
      if (!body) throw new Error(`${path}:${raw.startLine}: hcl2json has no ${raw.type}.${raw.name}`);
      mod.blocks.push({
        ...raw,
        address: raw.kind === "resource" ? `${raw.type}.${raw.name}` : `data.${raw.type}.${raw.name}`,
        body,
        module: mod,
        file: relative(INFRA_DIR, path),
      });
    }
    for (const [vname, defs] of Object.entries<Json[]>(json.variable ?? {})) {
      mod.variables.set(vname, defs[0]?.default ?? null);
    }
    for (const [mname, defs] of Object.entries<Json[]>(json.module ?? {})) {
      mod.moduleCalls.set(mname, defs[0]);
    }
  }
  return mod;
}

/** Parses every `.tf` file of a directory (not recursive) as one module. */
export async function loadModule(dir: string): Promise<Module> {
  const paths = readdirSync(dir)
    .filter((f) => f.endsWith(".tf"))
    .sort()
    .map((f) => join(dir, f));
  return loadFiles(relative(INFRA_DIR, dir) || ".", dir, paths);
}

/** The real stack: root module and every module it calls. */
export async function loadRealModules(): Promise<Module[]> {
  return Promise.all(REAL_MODULE_DIRS.map(loadModule));
}

/** Parses one fixture file as a module of its own. */
export async function loadFixture(file: string): Promise<Module> {
  return loadFiles(file, FIXTURES_DIR, [join(FIXTURES_DIR, file)]);
}

/** Sentinel for an expression a static reading cannot resolve. */
export const UNKNOWN = Symbol("unknown");

/**
 * Resolves a value as a scanner does: literals as they are, `${var.x}` to the variable's default,
 * anything else to UNKNOWN.
 */
export function resolveValue(mod: Module, value: unknown): unknown {
  if (typeof value !== "string") return value;
  const m = /^\$\{var\.([A-Za-z0-9_]+)\}$/.exec(value);
  if (m?.[1]) return mod.variables.has(m[1]) ? mod.variables.get(m[1]) : UNKNOWN;
  if (value.includes("${")) return UNKNOWN;
  return value;
}

/** The first nested block of that name (`tracing_config`, `logging_configuration`, …). */
export function nested(body: Json, name: string): Json | undefined {
  const v = body?.[name];
  return Array.isArray(v) ? v[0] : v;
}

export function blocksOf(mods: Module[], kind: "resource" | "data", type: string): Block[] {
  return mods.flatMap((m) => m.blocks.filter((b) => b.kind === kind && b.type === type));
}

/** A policy statement from a data "aws_iam_policy_document", static or from a `dynamic` block. */
export interface Statement {
  block: Block;
  sid: string;
  actions: string[];
  resources: string[];
  principals: { type: string; identifiers: string[] }[];
  /** Line of the statement in its file (for comments next to it). */
  line: number;
}

function statementLine(block: Block, sid: string): number {
  const file = block.module.files.find((f) => relative(INFRA_DIR, f.path) === block.file);
  const lines = (file?.text ?? "").split("\n");
  for (let i = block.startLine; i < block.endLine; i++) {
    if ((lines[i - 1] ?? "").includes(`"${sid}"`)) return i;
  }
  return block.startLine;
}

const asList = (v: unknown): string[] =>
  Array.isArray(v) ? v : v === undefined || v === null ? [] : [String(v)];

export function statements(block: Block): Statement[] {
  const raw: Json[] = [
    ...(block.body.statement ?? []),
    ...(block.body.dynamic?.statement ?? []).flatMap((d: Json) => d.content ?? []),
  ];
  return raw.map((s) => {
    const sid = s.sid ?? "";
    return {
      block,
      sid,
      actions: asList(s.actions),
      // An expression (`${flatten([...])}`) is one string, not a list of characters.
      resources: asList(s.resources),
      principals: s.principals ?? [],
      line: statementLine(block, sid),
    };
  });
}

/** The comment lines directly above a line (nearest last). */
export function commentsAbove(block: Block, line: number): string[] {
  const file = block.module.files.find((f) => relative(INFRA_DIR, f.path) === block.file);
  const lines = (file?.text ?? "").split("\n");
  const out: string[] = [];
  // The statement's sid is on the line after `statement {`: start above that opening line.
  let i = line - 2;
  while (i >= 0 && /^\s*statement\s*\{\s*$/.test(lines[i] ?? "")) i--;
  for (; i >= 0 && /^\s*#/.test(lines[i] ?? ""); i--) out.unshift((lines[i] ?? "").trim());
  return out;
}
