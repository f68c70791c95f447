#!/usr/bin/env node
// Adds to package-lock.json the entries for other platforms' optional binary packages (deno's
// @deno/darwin-arm64, supabase's @supabase/cli-windows-x64, ...) when the lock lacks them.
//
// Why: the npm registry this workplace reaches does not carry every platform's build of every
// version (e.g. @deno/darwin-arm64@2.9.6 is missing although @deno/linux-x64-glibc@2.9.6 is there).
// `npm install` then silently leaves those optional packages out of the lockfile, and `npm ci`
// refuses that same lockfile ("Missing: @deno/darwin-arm64@ from lock file"). An entry with the
// version and its os/cpu/libc is all `npm ci` needs: on this platform it skips the package; on the
// platform it belongs to, npm fetches it by version from a registry that has it.
//
//   node scripts/lockfile-platforms.mjs          add what is missing (prints what it added)
//   node scripts/lockfile-platforms.mjs --check  exit 1 if something is missing, change nothing
//
// Run it after `npm install` changes dependencies; .ci/run runs it before `npm ci`.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const file = path.join(root, "package-lock.json");
const check = process.argv.includes("--check");

/** os/cpu/libc from a platform package's name: "cli-linux-arm64-musl" → linux, arm64, musl. */
function platformOf(name) {
  const base = name.split("/").pop();
  const os = /(^|-)(darwin|macos)(-|$)/.test(base)
    ? "darwin"
    : /(^|-)(win32|windows)(-|$)/.test(base)
      ? "win32"
      : /(^|-)linux(-|$)/.test(base)
        ? "linux"
        : /(^|-)freebsd(-|$)/.test(base)
          ? "freebsd"
          : null;
  const cpu = /(^|-)(arm64|aarch64)(-|$)/.test(base)
    ? "arm64"
    : /(^|-)(x64|x86_64|amd64)(-|$)/.test(base)
      ? "x64"
      : /(^|-)ia32(-|$)/.test(base)
        ? "ia32"
        : null;
  const libc = os !== "linux" ? null : /(^|-)musl(-|$)/.test(base) ? "musl" : "glibc";
  return os && cpu ? { os, cpu, libc } : null;
}

const lock = JSON.parse(readFileSync(file, "utf8"));
const packages = lock.packages ?? {};
const added = [];
const unknown = [];
for (const [key, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    // Where npm would place it: beside the parent's own node_modules first, else hoisted.
    const nested = `${key ? `${key}/` : ""}node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (packages[nested] || packages[hoisted]) continue;
    const platform = platformOf(name);
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) {
      unknown.push(`${name}@${version} (optional dependency of ${key || "the project"})`);
      continue;
    }
    // Keys in the order npm writes them, so that a later `npm install` leaves the entry as it is.
    const record = {
      version,
      cpu: [platform.cpu],
      ...(platform.libc ? { libc: [platform.libc] } : {}),
      optional: true,
      os: [platform.os],
    };
    packages[hoisted] = record;
    added.push(`${name}@${version} (${platform.os}/${platform.cpu}${platform.libc ? `/${platform.libc}` : ""})`);
  }
}

if (unknown.length) {
  console.error("Optional dependencies missing from package-lock.json that this script cannot place:");
  for (const u of unknown) console.error(`  ${u}`);
}
if (added.length === 0) {
  console.log("package-lock.json has an entry for every platform package");
  process.exit(unknown.length ? 1 : 0);
}
if (check) {
  console.error(`package-lock.json lacks ${added.length} platform package entries (run node scripts/lockfile-platforms.mjs):`);
  for (const a of added) console.error(`  ${a}`);
  process.exit(1);
}
const [rootEntry, ...rest] = Object.entries(packages);
lock.packages = Object.fromEntries([rootEntry, ...rest.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added.length} platform package entries:`);
for (const a of added) console.log(`  ${a}`);
