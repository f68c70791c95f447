// Throwaway databases for benchmarks on the local Postgres server (BENCH_DATABASE_URL, default
// 127.0.0.1:5432), migrated with the one migrator. Loopback only: a benchmark never touches a
// remote database.
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { migrate } from "../../scripts/migrate.mjs";

export const SERVER_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * Creates sb_bench_<random>, applies bootstrap + migrations (+ seed), returns { name, url, sql, drop() }.
 * drop() may be called more than once. With dropOnSignal, SIGINT/SIGTERM drop it and exit (for
 * benchmarks that have nothing else to stop).
 */
export async function createBenchDatabase({ seed = true, dropOnSignal = false } = {}) {
  const server = new URL(SERVER_URL);
  if (!LOOPBACK.has(server.hostname)) {
    throw new Error(`benchmarks run against a loopback Postgres only, not ${server.hostname}`);
  }
  const name = `sb_bench_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
  const admin = postgres(SERVER_URL, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (error) {
    await admin.end();
    throw new Error(`cannot create a database on ${server.host} (set BENCH_DATABASE_URL): ${error.message}`);
  }
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  let sql;
  let dropping = null;
  // Safe to call more than once; also runs when the benchmark is interrupted.
  const drop = () =>
    (dropping ??= (async () => {
      await sql?.end({ timeout: 1 }).catch(() => {});
      await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await admin.end({ timeout: 1 }).catch(() => {});
    })());
  if (dropOnSignal) {
    process.once("SIGTERM", () => drop().finally(() => process.exit(143)));
    process.once("SIGINT", () => drop().finally(() => process.exit(130)));
  }
  try {
    await migrate(url.toString(), { bootstrap: true, seed });
    sql = postgres(url.toString(), { max: 2, onnotice: () => {} });
  } catch (error) {
    await drop();
    throw error;
  }
  return { name, url: url.toString(), sql, drop };
}
