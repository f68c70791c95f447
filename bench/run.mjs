#!/usr/bin/env node
// `npm run bench`: runs every benchmark script in bench/ (each *.mjs here but this one), one after
// the other so they do not compete for the two cores, printing their output as it comes.
// A benchmark prints figures and ratios; it asserts nothing. This exits non-zero only when a script
// could not run to the end.
//
//   npm run bench                 all of them
//   npm run bench -- telnyx sql-  only those whose file name contains one of the words
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const filters = process.argv.slice(2);
const scripts = readdirSync(here)
  .filter((f) => f.endsWith(".mjs") && f !== "run.mjs")
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();

if (scripts.length === 0) {
  console.error(filters.length ? `no benchmark in bench/ matches ${filters.join(", ")}` : "no benchmarks in bench/");
  process.exit(1);
}

let current = null;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    // The child got the terminal's Ctrl-C too; a SIGTERM reaches it either way so it can drop its databases.
    current?.kill("SIGTERM");
    process.exitCode = 130;
  });
}

const failed = [];
const total = performance.now();
for (const script of scripts) {
  console.log(`\n=== bench/${script} ===`);
  const started = performance.now();
  const code = await new Promise((resolve) => {
    current = spawn(process.execPath, [path.join(here, script)], { stdio: "inherit" });
    current.on("exit", (code, signal) => resolve(signal ? 1 : code));
    current.on("error", () => resolve(1));
  });
  current = null;
  console.log(`--- bench/${script}: ${code === 0 ? "done" : `FAILED (exit ${code})`} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (code !== 0) failed.push(script);
  if (process.exitCode === 130) break;
}
console.log(
  `\n${scripts.length - failed.length} of ${scripts.length} benchmarks ran in ${((performance.now() - total) / 1000).toFixed(0)} s` +
    (failed.length ? `; failed: ${failed.join(", ")}` : ""),
);
if (failed.length) process.exitCode = 1;
