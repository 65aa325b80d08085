#!/usr/bin/env node
// Zips a built Lambda directory into dist/<name> with fixed timestamps, so the same code always gives
// the same bytes (and Terraform's source_code_hash changes only when the code does).
// Usage: node scripts/zip-lambda.mjs <dir> <zip name>
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { zipSync } from "fflate";

const [dir, name] = process.argv.slice(2);
if (!dir || !name) {
  console.error("usage: zip-lambda.mjs <dir> <zip name>");
  process.exit(2);
}
const files = {};
const walk = (d) => {
  for (const entry of readdirSync(d).sort()) {
    const p = join(d, entry);
    if (statSync(p).isDirectory()) walk(p);
    else if (!entry.endsWith(".map"))
      files[relative(dir, p)] = [readFileSync(p), { mtime: new Date("2020-01-01T00:00:00Z") }];
  }
};
walk(dir);
const zip = zipSync(files, { level: 9 });
writeFileSync(join("dist", name), zip);
console.log(`dist/${name}: ${Object.keys(files).length} file(s), ${zip.byteLength} bytes`);
