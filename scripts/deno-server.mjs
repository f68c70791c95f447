// Starts scripts/serve.ts (the local functions server) under Deno, for `npm start`, the benchmarks
// and the end-to-end tests alike, so that all three run the functions the same way.
//
// Deno comes from the npm package `deno` (node_modules/.bin/deno), or from SWITCHBOARD_DENO_BIN when
// that names another binary: scripts/deno-hosted.mjs sets it to the Deno line of Supabase's hosted
// Edge Runtime (docs/deno-versions.md), so the same tests and benchmarks run under both. deno.json maps bare imports to
// npm: specifiers and sets nodeModulesDir "manual": Deno resolves them from the node_modules that
// `npm ci` installed and never downloads anything itself. --no-lock keeps Deno from writing a
// deno.lock (package-lock.json already pins every npm package). Permissions: network (serve, reach
// Postgres and providers), environment (settings), reading the work tree (the code and
// node_modules), and sys info that postgres.js/Node compatibility may ask for (os.userInfo, hostname).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The Deno binary that runs the functions: SWITCHBOARD_DENO_BIN if set, else the npm package's. */
export function denoBinary() {
  const chosen = process.env.SWITCHBOARD_DENO_BIN;
  if (chosen) {
    const resolved = path.resolve(chosen);
    if (!existsSync(resolved)) throw new Error(`SWITCHBOARD_DENO_BIN names ${resolved}, which does not exist`);
    return resolved;
  }
  const local = path.join(root, "node_modules", ".bin", process.platform === "win32" ? "deno.cmd" : "deno");
  if (!existsSync(local)) {
    throw new Error("Deno is not installed in node_modules: run `npm ci` (the `deno` npm package provides it)");
  }
  return local;
}

export function denoServeArgs(env = {}) {
  const readable = [root];
  if (env.SWITCHBOARD_FUNCTIONS_DIR) readable.push(path.resolve(env.SWITCHBOARD_FUNCTIONS_DIR));
  return [
    "run",
    "--quiet",
    "--no-prompt",
    "--no-lock",
    `--config=${path.join(root, "deno.json")}`,
    "--allow-net",
    "--allow-env",
    `--allow-read=${readable.join(",")}`,
    "--allow-sys",
    path.join(root, "scripts", "serve.ts"),
  ];
}

/**
 * Spawns the functions server. `env` is the whole environment the functions get (nothing is
 * inherited unless you pass it). Resolves once it listens, with its URL; rejects if it exits first.
 * Output lines go to onLine(line, stream) as they come.
 */
export function startDenoServer({ env, port = 0, host = "127.0.0.1", onLine, detached = false, timeoutMs = 30_000 }) {
  const child = spawn(denoBinary(), denoServeArgs(env), {
    cwd: root,
    env: { ...env, PORT: String(port), HOST: host, NO_COLOR: env.NO_COLOR ?? "1" },
    stdio: ["ignore", "pipe", "pipe"],
    detached,
  });
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`functions server did not start listening within ${timeoutMs} ms`));
      child.kill("SIGKILL");
    }, timeoutMs);
    let recent = [];
    let listening = false;
    const watch = (stream, name) => {
      let buffer = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        if (listening && !onLine) return; // nobody reads the output: drain it cheaply (benchmarks)
        buffer += chunk;
        let at;
        while ((at = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, at);
          buffer = buffer.slice(at + 1);
          recent = [...recent.slice(-30), line];
          onLine?.(line, name);
          const m = /^\[serve\] listening on (http:\/\/\S+)/.exec(line);
          if (m) {
            clearTimeout(timer);
            listening = true;
            resolve(m[1]);
          }
        }
      });
      stream.on("end", () => buffer && onLine?.(buffer, name));
    };
    watch(child.stdout, "stdout");
    watch(child.stderr, "stderr");
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`functions server exited (${signal ?? `code ${code}`}) before listening:\n${recent.join("\n")}`));
    });
  });
  return { child, ready, exited };
}
