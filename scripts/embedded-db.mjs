// The embedded database for `npm start`: PGlite (Postgres compiled to WebAssembly, in this process)
// served over the Postgres wire protocol by @electric-sql/pglite-socket, so that the Supabase CLI,
// postgres.js in the Deno functions and psql all connect to it as to any Postgres server.
//
// What to know about it (found while building this; see also the README):
// - One backend. PGLiteSocketServer accepts one client unless maxConnections is set; with it, it
//   multiplexes every client onto the one session, running each client's messages in order and
//   keeping an open transaction to the client that opened it. Session state (SET, prepared statement
//   names) is therefore shared; postgres.js names its statements uniquely per connection, so that is
//   harmless here. A long transaction in one client makes the others wait.
// - No background workers: no pg_cron (start.mjs runs run_maintenance_tasks() on a timer instead),
//   and lock waits or pg_sleep stall every client.
// - Extensions: only those compiled for PGlite, and each must be loaded when PGlite starts. We read
//   the migrations for `create extension` and load the ones PGlite ships; others are reported.
// - One process per data directory: a lock file refuses a second `npm start` on the same data.
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync, unlinkSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Extensions that are part of PGlite itself (no module to load). */
const BUILT_IN = new Set(["plpgsql"]);

/** Every `create extension` name in supabase/migrations, lower-cased. */
export async function extensionsInMigrations(dir = path.join(root, "supabase", "migrations")) {
  const names = new Set();
  let files = [];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith(".sql"));
  } catch {
    return names;
  }
  for (const file of files) {
    const text = await readFile(path.join(dir, file), "utf8");
    for (const m of text.matchAll(/create\s+extension\s+(?:if\s+not\s+exists\s+)?"?([a-z0-9_-]+)"?/gi)) {
      names.add(m[1].toLowerCase());
    }
  }
  return names;
}

/** Loads PGlite's module for each extension it ships; returns { extensions, missing }. */
export async function pgliteExtensions(names) {
  const extensions = {};
  const missing = [];
  for (const name of names) {
    if (BUILT_IN.has(name)) continue;
    const id = name.replaceAll("-", "_");
    // pgvector ships as its own package since PGlite 0.5 (a dependency of @electric-sql/pglite).
    const specifier = id === "vector" ? "@electric-sql/pglite-pgvector" : `@electric-sql/pglite/contrib/${id}`;
    try {
      const module = await import(specifier);
      if (!module[id]) throw new Error("no export");
      extensions[id] = module[id];
    } catch {
      missing.push(name);
    }
  }
  return { extensions, missing };
}

export async function portIsFree(port, host) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, host, () => probe.close(() => resolve(true)));
  });
}

function pidIsAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
}

/**
 * Starts PGlite on `dataDir` (created if missing, kept between runs) and serves it on host:port.
 * Returns { url, db, missingExtensions, stop() }.
 */
export async function startEmbeddedPostgres({
  dataDir = path.join(root, ".switchboard", "pglite"),
  host = "127.0.0.1",
  port = 54322,
  maxConnections = 64,
} = {}) {
  await mkdir(dataDir, { recursive: true });
  const lockFile = `${dataDir}.lock`;
  if (existsSync(lockFile)) {
    const pid = Number(readFileSync(lockFile, "utf8").trim());
    if (pid && pid !== process.pid && pidIsAlive(pid)) {
      throw new Error(
        `the embedded database in ${path.relative(process.cwd(), dataDir)} is in use by process ${pid} (another npm start?)`,
      );
    }
    await rm(lockFile, { force: true }); // left by a run that did not stop cleanly
  }
  if (!(await portIsFree(port, host))) {
    throw new Error(`port ${host}:${port} is in use: stop what listens there, or set PGLITE_PORT`);
  }
  await writeFile(lockFile, `${process.pid}\n`);
  const releaseLock = () => {
    try {
      unlinkSync(lockFile);
    } catch {
      // already gone
    }
  };

  let db;
  let server;
  try {
    const { extensions, missing } = await pgliteExtensions(await extensionsInMigrations());
    db = await PGlite.create(dataDir, { extensions });
    server = new PGLiteSocketServer({ db, host, port, maxConnections });
    await server.start();
    return {
      url: `postgres://postgres@${host}:${port}/postgres`,
      db,
      missingExtensions: missing,
      async stop() {
        await server.stop().catch(() => {});
        await db.close().catch(() => {});
        releaseLock();
      },
    };
  } catch (error) {
    await server?.stop().catch(() => {});
    await db?.close().catch(() => {});
    releaseLock();
    throw error;
  }
}
