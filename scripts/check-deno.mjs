#!/usr/bin/env node
// Checks that Deno resolves everything the functions import, without running them: every bare name
// mapped in deno.json "imports", every functions/<name>/index.ts and handler.ts, and scripts/serve.ts.
// deno.json sets nodeModulesDir "manual", so npm: specifiers resolve only from the node_modules that
// `npm ci` installed; a version in deno.json that package-lock.json does not install fails here with
// Deno's own message, instead of at the first request. CI runs this after `npm ci`.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { denoBinary, root } from "./deno-server.mjs";

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
