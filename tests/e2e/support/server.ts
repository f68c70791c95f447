// End-to-end support: the real functions server (scripts/serve.ts under Deno, as `npm start` runs it)
// on a free port, with exactly the environment a test gives it, and Telnyx-style signing.
//
//   const db = await createTestDatabase();
//   const keys = await generateEd25519KeyPair();
//   const server = await startFunctionsServer({ env: { DATABASE_URL: db.url, TELNYX_PUBLIC_KEY: keys.publicKey } });
//   const body = JSON.stringify(event);
//   const res = await fetch(server.functionUrl("telnyx-webhook"), {
//     method: "POST", body, headers: { "content-type": "application/json", ...(await signTelnyx(keys.privateKey, body)) },
//   });
//   expect(server.logs().some((l) => l.msg === "request" && l.function === "telnyx-webhook")).toBe(true);
//   await server.stop();
import { startDenoServer } from "../../../scripts/deno-server.mjs";

export interface LogLine {
  level?: string;
  msg?: string;
  [field: string]: unknown;
}

export interface FunctionsServer {
  /** http://127.0.0.1:<port> */
  url: string;
  /** http://127.0.0.1:<port>/functions/v1/<name> */
  functionUrl(name: string): string;
  /** Everything the server printed so far, stdout and stderr interleaved, one entry per line. */
  output(): string[];
  /** The JSON log lines printed so far (the functions' structured logs), parsed. */
  logs(): LogLine[];
  /** Resolves with the first log line (already printed or still to come) that matches. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM: finishes requests and background work, then exits. Resolves with how it exited. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: the process dies at once, background work and all (an isolate killed mid-work). */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** What the server inherits from the test process: enough to run Deno, nothing that configures a function. */
const PASSED_THROUGH = ["PATH", "HOME", "TMPDIR", "DENO_DIR", "XDG_CACHE_HOME", "LANG", "TZ", "SSL_CERT_FILE"];

const running = new Set<() => void>();
process.once("exit", () => {
  for (const kill of running) kill();
});

export async function startFunctionsServer(
  options: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<FunctionsServer> {
  const env: Record<string, string | undefined> = {};
  for (const name of PASSED_THROUGH) if (process.env[name] !== undefined) env[name] = process.env[name];
  Object.assign(env, options.env);

  const lines: string[] = [];
  const parsed: LogLine[] = [];
  const waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>();
  const onLine = (line: string) => {
    lines.push(line);
    if (!line.startsWith("{")) return;
    let record: LogLine;
    try {
      record = JSON.parse(line);
    } catch {
      return;
    }
    parsed.push(record);
    for (const waiter of waiters) {
      if (waiter.match(record)) {
        waiters.delete(waiter);
        waiter.resolve(record);
      }
    }
  };

  const server = startDenoServer({ env, port: 0, onLine, timeoutMs: options.timeoutMs ?? 30_000 });
  const kill = () => server.child.kill("SIGKILL");
  running.add(kill);
  let url: string;
  try {
    url = await server.ready;
  } catch (error) {
    kill();
    running.delete(kill);
    throw error;
  }

  let stopped: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | null = null;
  return {
    url,
    functionUrl: (name) => `${url}/functions/v1/${name}`,
    output: () => [...lines],
    logs: () => [...parsed],
    waitForLog(match, timeoutMs = 5_000) {
      const seen = parsed.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (line: LogLine) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching log line within ${timeoutMs} ms; output:\n${lines.join("\n")}`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    kill() {
      stopped ??= (async () => {
        kill();
        const result = await server.exited;
        running.delete(kill);
        return result;
      })();
      return stopped;
    },
    stop() {
      stopped ??= (async () => {
        if (server.child.exitCode === null && server.child.signalCode === null) {
          server.child.kill("SIGTERM");
        }
        const timer = setTimeout(kill, 15_000);
        const result = await server.exited;
        clearTimeout(timer);
        running.delete(kill);
        return result;
      })();
      return stopped;
    },
  };
}

// Telnyx-style signing lives with the other test support; re-exported here for end-to-end suites.
export { type Ed25519KeyPair, generateEd25519KeyPair, signTelnyx } from "../../support/telnyx-signing.ts";
