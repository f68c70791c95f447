// The servers a benchmark drives: the real functions server (scripts/serve.ts under Deno, started
// exactly as `npm start` and the end-to-end tests start it) and the baseline, a bare Deno.serve that
// reads the request body and answers fixed JSON: what Deno's HTTP stack costs with no work at all.
import { spawn } from "node:child_process";
import { denoBinary, root, startDenoServer } from "../../scripts/deno-server.mjs";

/** What the functions inherit: enough to run Deno; the rest comes from `env`. */
function baseEnv() {
  const out = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "DENO_DIR", "XDG_CACHE_HOME", "LANG"]) {
    if (process.env[name] !== undefined) out[name] = process.env[name];
  }
  return out;
}

function stopper(child, exited) {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  };
}

export async function startFunctions(env) {
  const server = startDenoServer({ env: { ...baseEnv(), ...env }, port: 0 });
  const url = await server.ready;
  return { url, stop: stopper(server.child, server.exited) };
}

const BASELINE = `
const body = Deno.env.get("BASELINE_BODY") ?? '{"ok":true}';
Deno.serve({
  port: 0,
  hostname: "127.0.0.1",
  onListen: ({ hostname, port }) => console.log("listening on http://" + hostname + ":" + port),
}, async (req) => {
  await req.text();
  return new Response(body, { headers: { "content-type": "application/json" } });
});
`;

/** Starts the baseline server answering `body` (a JSON string). */
export async function startBaseline(body) {
  const child = spawn(denoBinary(), ["eval", "--quiet", "--no-lock", BASELINE], {
    cwd: root,
    env: { ...baseEnv(), BASELINE_BODY: body, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8");
    const onData = (chunk) => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        child.stdout.off("data", onData);
        child.stdout.resume();
        resolve(m[1]);
      }
    };
    child.stdout.on("data", onData);
    child.once("error", reject);
    exited.then(() => reject(new Error(`baseline server exited before listening: ${out}`)));
  });
  return { url, stop: stopper(child, exited) };
}
