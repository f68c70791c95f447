#!/usr/bin/env node
// Runs the pgTAP suites in supabase/tests with pg_prove against a fresh, migrated database on the
// Postgres server at TEST_DATABASE_URL (default 127.0.0.1:5432), then drops it.
// `supabase test db` runs the same files on a Supabase stack.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { migrate } from "./migrate.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const server = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const name = `sb_pgtap_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
const url = new URL(server);
url.pathname = `/${name}`;

const files = readdirSync(path.join(root, "supabase/tests"))
  .filter((f) => f.endsWith(".sql"))
  .sort()
  .map((f) => path.join("supabase/tests", f));
if (files.length === 0) {
  console.error("no pgTAP files in supabase/tests");
  process.exit(1);
}

const admin = postgres(server, { max: 1, onnotice: () => {} });
let status = 1;
try {
  await admin.unsafe(`create database ${name}`);
  await migrate(url.toString(), { bootstrap: true });
  const db = postgres(url.toString(), { max: 1, onnotice: () => {} });
  await db.unsafe("create extension if not exists pgtap with schema extensions");
  await db.end();
  const result = spawnSync(
    "pg_prove",
    ["--ext", ".sql", "-h", url.hostname, "-p", url.port || "5432", "-U", decodeURIComponent(url.username || "postgres"), "-d", name, ...files],
    { cwd: root, stdio: "inherit", env: { ...process.env, PGPASSWORD: decodeURIComponent(url.password || "") } },
  );
  if (result.error) throw new Error(`pg_prove could not run (install postgresql-15-pgtap): ${result.error.message}`);
  status = result.status ?? 1;
} catch (error) {
  console.error(error.message);
} finally {
  await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
  await admin.end();
}
process.exit(status);
