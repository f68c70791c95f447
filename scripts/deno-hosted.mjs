#!/usr/bin/env node
// The Deno of Supabase's hosted Edge Runtime, for running our Deno checks and tests under it as well
// as under the newer Deno that package.json installs. Supabase's runtime embeds Deno 2.1.4 and has no
// plan to move (sources in docs/deno-versions.md); the `deno` npm package publishes that release.
//
//   node scripts/deno-hosted.mjs                 installs it if needed, prints the binary's path
//   node scripts/deno-hosted.mjs -- <command>    runs <command> with SWITCHBOARD_DENO_BIN set to it,
//                                                e.g. `-- npm start`, `-- npm run bench -- telnyx-webhook`
//   node scripts/deno-hosted.mjs --test          what `npm run test:e2e:deno-2.1` (and so `npm test`) runs:
//                                                check-deno.mjs --typecheck, then the end-to-end and fuzz
//                                                suites, under this Deno
//
// The binary lives in .switchboard/deno-2.1 (git-ignored): `npm install --prefix` of deno@2.1.4 from
// the npm registry, which brings the platform's @deno/<os>-<arch> package as an optional dependency.
// Nothing is added to package.json or package-lock.json. A folder holding another version is replaced.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { root } from "./deno-server.mjs";

export const HOSTED_DENO_VERSION = "2.1.4";
export const hostedDenoDir = path.join(root, ".switchboard", "deno-2.1");

/** The installed binary's path if the folder holds exactly HOSTED_DENO_VERSION and it runs; else null. */
function installedBinary() {
  const manifest = path.join(hostedDenoDir, "node_modules", "deno", "package.json");
  if (!existsSync(manifest)) return null;
  if (JSON.parse(readFileSync(manifest, "utf8")).version !== HOSTED_DENO_VERSION) return null;
  let binary;
  try {
    // The package's own installer: finds the @deno/<platform> binary and links it next to itself,
    // which also covers an `npm install` that ran with scripts disabled.
    binary = createRequire(manifest)("./install_api.cjs").runInstall();
  } catch {
    return null;
  }
  return versionOf(binary) === HOSTED_DENO_VERSION ? binary : null;
}

function versionOf(binary) {
  try {
    return /^deno (\S+)/.exec(execFileSync(binary, ["--version"], { encoding: "utf8" }))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** npm, the same one that runs this script when it runs from an npm script. */
function npm(args) {
  const cli = process.env.npm_execpath;
  const [command, argv] = cli && cli.endsWith(".js") ? [process.execPath, [cli, ...args]] : ["npm", args];
  const result = spawnSync(command, argv, {
    stdio: ["ignore", process.stderr, "inherit"], // stdout stays for the path this script prints
    shell: process.platform === "win32" && command === "npm",
  });
  if (result.error) throw result.error;
  return result.status === 0;
}

/** Installs Deno HOSTED_DENO_VERSION if it is not there yet; returns the binary's path. */
export function ensureHostedDeno({ log = (line) => console.error(line) } = {}) {
  const ready = installedBinary();
  if (ready) return ready;
  const started = Date.now();
  log(`Installing deno@${HOSTED_DENO_VERSION} (Supabase's hosted Deno line) into ${path.relative(root, hostedDenoDir)}`);
  rmSync(hostedDenoDir, { recursive: true, force: true });
  mkdirSync(hostedDenoDir, { recursive: true });
  const ok = npm([
    "install",
    "--prefix",
    hostedDenoDir,
    "--no-save",
    "--no-package-lock",
    "--include=optional",
    "--no-audit",
    "--no-fund",
    "--loglevel=error",
    `deno@${HOSTED_DENO_VERSION}`,
  ]);
  const binary = ok ? installedBinary() : null;
  if (!binary) {
    throw new Error(
      `Could not install deno@${HOSTED_DENO_VERSION} from the npm registry into ${hostedDenoDir}` +
        " (its @deno/<os>-<arch> package must exist for this platform)",
    );
  }
  log(`Installed in ${((Date.now() - started) / 1000).toFixed(1)} s: ${binary}`);
  return binary;
}

/** Runs a command with SWITCHBOARD_DENO_BIN set; returns its exit status. */
function runWith(binary, command, args, extraEnv = {}) {
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      ...extraEnv,
      SWITCHBOARD_DENO_BIN: binary,
      PATH: `${path.join(root, "node_modules", ".bin")}${path.delimiter}${process.env.PATH ?? ""}`,
    },
    shell: process.platform === "win32",
  });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function main(argv) {
  const binary = ensureHostedDeno();
  const dashdash = argv.indexOf("--");
  if (dashdash >= 0) {
    const [command, ...args] = argv.slice(dashdash + 1);
    if (!command) throw new Error("nothing to run after --");
    return runWith(binary, command, args);
  }
  if (argv.includes("--test")) {
    const steps = [
      ["Deno resolves, loads and type-checks the functions", process.execPath, [path.join(root, "scripts", "check-deno.mjs"), "--typecheck"], {}],
      // The fuzz suite at a quarter of its default size: the full one runs under the default Deno.
      ["End-to-end and fuzz suites", "vitest", ["run", "tests/e2e", "tests/fuzz"], { FUZZ_REQUESTS_PER_ENDPOINT: process.env.FUZZ_REQUESTS_PER_ENDPOINT ?? "250" }],
    ];
    console.log(`\n== Under Deno ${HOSTED_DENO_VERSION}, the line Supabase's hosted Edge Runtime runs (${binary})`);
    for (const [title, command, args, env] of steps) {
      const started = Date.now();
      console.log(`\n== ${title} (Deno ${HOSTED_DENO_VERSION})`);
      const status = runWith(binary, command, args, env);
      console.log(`== ${title}: ${status === 0 ? "passed" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      if (status !== 0) return status;
    }
    return 0;
  }
  console.log(binary);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
