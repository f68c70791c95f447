#!/usr/bin/env node
// The one migrator for local runs, tests and production: `supabase db push`. Locally and in tests it
// first applies scripts/bootstrap.sql, which recreates what a Supabase project already has (roles,
// the auth schema). Never pass --bootstrap against a Supabase project.
//
//   node scripts/migrate.mjs --db-url postgres://... [--bootstrap] [--seed]
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import path from "node:path";
import postgres from "postgres";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Applies bootstrap (optional), every migration and the seed (optional) to the database at `url`. */
export async function migrate(url, { bootstrap = false, seed = false, quiet = true } = {}) {
  if (!url) throw new Error("migrate: a database URL is required");
  if (bootstrap) {
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await sql.unsafe(await readFile(path.join(root, "scripts/bootstrap.sql"), "utf8"));
    } finally {
      await sql.end();
    }
  }
  const args = ["db", "push", "--db-url", url, "--yes", "--workdir", root];
  if (seed) args.push("--include-seed");
  await run(path.join(root, "node_modules/.bin/supabase"), args, quiet);
}

function run(cmd, args, quiet) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: root,
      stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit",
      env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" },
    });
    let output = "";
    child.stdout?.on("data", (d) => (output += d));
    child.stderr?.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`supabase db push failed (exit ${code}):\n${output}`)),
    );
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf("--db-url");
  const url = at >= 0 ? argv[at + 1] : process.env.DATABASE_URL;
  migrate(url, { bootstrap: argv.includes("--bootstrap"), seed: argv.includes("--seed"), quiet: false })
    .catch((error) => {
      console.error(error.message);
      process.exit(1);
    });
}
