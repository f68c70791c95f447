#!/usr/bin/env node
// Checks that Deno resolves everything the functions import, without running them: every bare name
// mapped in deno.json "imports", every functions/<name>/index.ts and handler.ts, and scripts/serve.ts.
// deno.json sets nodeModulesDir "manual", so npm: specifiers resolve only from the node_modules that
// `npm ci` installed; a version in deno.json that package-lock.json does not install fails here with
// Deno's own message, instead of at the first request. Then it runs scripts/deno-npm-smoke.ts, which
// loads each of those packages and makes one small call into it, and with --typecheck it runs
// `deno check` over the entry points. CI runs this after `npm ci` (without --typecheck: `npm run
// typecheck` does that); scripts/deno-hosted.mjs runs it with --typecheck under Supabase's Deno line
// (SWITCHBOARD_DENO_BIN picks the binary, as for the functions server).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { denoBinary, root } from "./deno-server.mjs";

const typecheck = process.argv.includes("--typecheck");
const deno = denoBinary();
const config = path.join(root, "deno.json");
const imports = Object.keys(JSON.parse(readFileSync(config, "utf8")).imports ?? {});

const roots = [];
const scratch = mkdtempSync(path.join(tmpdir(), "switchboard-deno-check-"));
const probe = path.join(scratch, "imports.ts");
writeFileSync(probe, imports.map((name) => `import ${JSON.stringify(name)};`).join("\n") + "\n");
roots.push(probe);
for (const entry of readdirSync(path.join(root, "functions"), { withFileTypes: true })) {
  if (!entry.isDirectory() || entry.name.startsWith("_")) continue;
  for (const file of ["index.ts", "handler.ts"]) {
    const p = path.join(root, "functions", entry.name, file);
    if (existsSync(p)) roots.push(p);
  }
}
roots.push(path.join(root, "scripts", "serve.ts"));

/** Every "error" string anywhere in deno info's JSON graph. */
function errorsIn(node, found = []) {
  if (Array.isArray(node)) node.forEach((n) => errorsIn(n, found));
  else if (node && typeof node === "object") {
    for (const [key, value] of Object.entries(node)) {
      if (key === "error" && typeof value === "string") found.push(value);
      else errorsIn(value, found);
    }
  }
  return found;
}

console.log(execFileSync(deno, ["--version"], { encoding: "utf8" }).split("\n")[0]);
let failed = 0;
try {
  for (const file of roots) {
    const graph = JSON.parse(
      execFileSync(deno, ["info", "--json", "--no-lock", `--config=${config}`, file], {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1" },
      }),
    );
    const errors = [...new Set(errorsIn(graph))];
    const name = file === probe ? `deno.json imports (${imports.join(", ")})` : path.relative(root, file);
    if (errors.length) {
      failed += 1;
      console.error(`✗ ${name}`);
      for (const error of errors) console.error(`    ${error}`);
    } else {
      console.log(`✓ ${name}: ${graph.modules.length} modules resolved`);
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (failed) {
  console.error(`Deno cannot resolve ${failed} entry point(s): run \`npm ci\`, and keep deno.json's npm: versions in step with package.json.`);
  process.exit(1);
}

/** Runs deno with these arguments, its output passed through; true when it exits 0. */
function denoRun(args) {
  const result = spawnSync(deno, args, { cwd: root, stdio: "inherit", env: { ...process.env, NO_COLOR: "1" } });
  if (result.error) throw result.error;
  return result.status === 0;
}

const smoke = path.join(root, "scripts", "deno-npm-smoke.ts");
const smokeOk = denoRun([
  "run",
  "--quiet",
  "--no-prompt",
  "--no-lock",
  `--config=${config}`,
  "--allow-net=127.0.0.1",
  "--allow-env",
  `--allow-read=${root}`,
  "--allow-sys",
  smoke,
]);
if (!smokeOk) {
  console.error("An npm package the functions import fails under this Deno (see FAIL above).");
  process.exit(1);
}

if (typecheck) {
  const entries = [...roots.filter((file) => file !== probe && !file.endsWith("handler.ts")), smoke];
  console.log(`deno check ${entries.map((file) => path.relative(root, file)).join(" ")}`);
  if (!denoRun(["check", "--quiet", "--no-lock", `--config=${config}`, ...entries])) {
    console.error("The functions do not type-check under this Deno (its TypeScript and its Deno types).");
    process.exit(1);
  }
  console.log("✓ type-checks");
}
