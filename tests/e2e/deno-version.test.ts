// Which Deno runs the functions: the binary SWITCHBOARD_DENO_BIN names (scripts/deno-hosted.mjs sets it
// to Deno 2.1.4, the line Supabase's hosted Edge Runtime runs), else the `deno` npm package's. This keeps
// the second run of these suites from silently testing the default Deno again.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { startFunctionsServer } from "./support/server.ts";

const root = path.resolve(import.meta.dirname, "../..");

function versionOf(binary: string): string {
  const out = execFileSync(binary, ["--version"], { encoding: "utf8" });
  return /^deno (\S+)/.exec(out)?.[1] ?? out;
}

describe("the functions server's Deno", () => {
  it("is the binary SWITCHBOARD_DENO_BIN names when set, else node_modules/.bin/deno", async () => {
    const expected = versionOf(process.env.SWITCHBOARD_DENO_BIN ?? path.join(root, "node_modules", ".bin", "deno"));
    const server = await startFunctionsServer({ env: {} });
    try {
      expect(server.output()).toContain(`[serve] Deno ${expected}`);
    } finally {
      await server.stop();
    }
  });
});
