import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** The packages people install, by directory. */
export const PUBLISHED = {
  "@stepstream/results-schema": "packages/results-schema",
  "@stepstream/steps": "packages/steps",
  "@stepstream/client": "packages/client",
  "@stepstream/cli": "apps/cli",
  "@stepstream/local": "apps/local",
} as const;
export type PublishedName = keyof typeof PUBLISHED;

export interface Packed {
  name: PublishedName;
  /** The tarball's path. */
  file: string;
  bytes: number;
  entries: TarEntry[];
  manifest: Record<string, unknown>;
}

export interface TarEntry {
  /** Path inside the tarball, without the leading `package/`. */
  path: string;
  mode: number;
  size: number;
  content: Buffer;
}

const run = (cmd: string, args: string[], cwd: string) =>
  new Promise<string>((resolvePromise, reject) =>
    execFile(cmd, args, { cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err
        ? reject(new Error(`${cmd} ${args.join(" ")} failed in ${cwd}: ${stderr || err.message}`))
        : resolvePromise(stdout),
    ),
  );

/** Reads a `.tgz` (ustar, as npm and pnpm write it). */
export function readTarball(file: string): TarEntry[] {
  const tar = gunzipSync(readFileSync(file));
  const entries: TarEntry[] = [];
  const str = (b: Buffer) => b.toString("utf8").replace(/\0.*$/s, "");
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = str(header.subarray(0, 100));
    const prefix = str(header.subarray(345, 500));
    const mode = Number.parseInt(str(header.subarray(100, 108)).trim() || "0", 8);
    const size = Number.parseInt(str(header.subarray(124, 136)).trim() || "0", 8);
    const type = String.fromCharCode(header[156] ?? 48);
    const full = prefix ? `${prefix}/${name}` : name;
    if (type === "0" || type === "\0") {
      entries.push({
        path: full.replace(/^package\//, ""),
        mode,
        size,
        content: Buffer.from(tar.subarray(at + 512, at + 512 + size)),
      });
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

/** `pnpm pack` of every published package into `dir` (what `pnpm publish` would upload). */
export async function packAll(dir: string): Promise<Packed[]> {
  const out: Packed[] = [];
  // One at a time: pnpm pack is quick (~1 s) and the machine is shared.
  for (const [name, rel] of Object.entries(PUBLISHED) as [PublishedName, string][]) {
    const before = new Set(readdirSync(dir));
    await run("pnpm", ["pack", "--pack-destination", dir], join(REPO, rel));
    const made = readdirSync(dir).filter((f) => !before.has(f) && f.endsWith(".tgz"));
    if (made.length !== 1) throw new Error(`pnpm pack of ${name} made ${made.length} tarballs`);
    const file = join(dir, made[0] as string);
    const entries = readTarball(file);
    const manifest = JSON.parse(
      entries.find((e) => e.path === "package.json")?.content.toString("utf8") ?? "{}",
    ) as Record<string, unknown>;
    out.push({ name, file, bytes: readFileSync(file).length, entries, manifest });
  }
  return out;
}
