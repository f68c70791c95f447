// Types for scripts/deno-server.mjs (used from TypeScript by tests/e2e/support/server.ts).
import type { ChildProcess } from "node:child_process";

export declare const root: string;
/** The Deno binary that runs the functions: SWITCHBOARD_DENO_BIN if set, else the npm package's. */
export declare function denoBinary(): string;
export declare function denoServeArgs(env?: Record<string, string | undefined>): string[];
export interface StartDenoServerOptions {
  /** The whole environment the functions get; nothing is inherited. */
  env: Record<string, string | undefined>;
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  detached?: boolean;
  timeoutMs?: number;
}
export declare function startDenoServer(options: StartDenoServerOptions): {
  child: ChildProcess;
  /** The base URL (http://host:port) once the server listens. */
  ready: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};
