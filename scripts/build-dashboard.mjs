// Builds the agents' dashboard (dashboard/ → dashboard/dist) when it is missing or older than its
// sources. `npm start` calls ensureDashboardBuilt(); the browser tests too. `npm run build:dashboard`
// always builds.
import { spawn } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DASHBOARD_DIR = path.join(root, "dashboard");
export const DASHBOARD_DIST = path.join(DASHBOARD_DIR, "dist");

async function newest(dir) {
  let latest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name === "dist" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? await newest(full) : (await stat(full)).mtimeMs);
  }
  return latest;
}

/** Whether dist/ is missing or older than a source file of the dashboard. */
export async function dashboardIsStale() {
  let built;
  try {
    built = (await stat(path.join(DASHBOARD_DIST, "index.html"))).mtimeMs;
  } catch {
    return true;
  }
  return (await newest(DASHBOARD_DIR)) > built;
}

/** Runs `vite build` for the dashboard; resolves when done, rejects with its output if it fails. */
export function buildDashboard({ quiet = true } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, "node_modules", "vite", "bin", "vite.js"), "build", "--config", path.join(DASHBOARD_DIR, "vite.config.ts"), "--logLevel", quiet ? "warn" : "info"], {
      cwd: root,
      env: { ...process.env, NODE_ENV: "production" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(output) : reject(new Error(`vite build failed (${code}):\n${output}`))));
  });
}

export async function ensureDashboardBuilt() {
  if (!(await dashboardIsStale())) return { built: false };
  await buildDashboard();
  return { built: true };
}
