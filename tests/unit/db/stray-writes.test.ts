// Which Deno gets the stray-write guard, and which errors it drops (functions/_shared/db/client.ts).
// The end-to-end suite shows the effect under Deno 2.1.4 (tests/e2e/concurrent-load.test.ts).
import { describe, expect, it } from "vitest";
import {
  isStrayPostgresWrite,
  runtimeDenoVersion,
  strayWritesPossible,
} from "../../../functions/_shared/db/client.ts";

function errorWithStack(ctor: ErrorConstructor, message: string, stack: string): Error {
  const error = new ctor(message);
  error.stack = `${ctor.name}: ${message}\n${stack}`;
  return error;
}

const STRAY_STACK = [
  "    at _write (ext:deno_node/_stream.mjs:3433:15)",
  "    at Socket.Writable.write (ext:deno_node/_stream.mjs:3468:14)",
  "    at nextWrite (file:///srv/app/node_modules/postgres/src/connection.js:255:22)",
  "    at ext:deno_web/02_timers.js:35:14",
].join("\n");

describe("runtimeDenoVersion", () => {
  it("reads Deno's own version string", () => {
    expect(runtimeDenoVersion("2.1.4")).toEqual([2, 1]);
    expect(runtimeDenoVersion("2.9.6")).toEqual([2, 9]);
  });

  it("reads the Deno version inside Supabase's runtime string, not the runtime's own", () => {
    expect(runtimeDenoVersion("supabase-edge-runtime-1.74.0 (compatible with Deno v2.1.4)")).toEqual([2, 1]);
  });

  it("is null outside Deno or for a string it cannot read", () => {
    expect(runtimeDenoVersion(undefined)).toBeNull();
    expect(runtimeDenoVersion("canary")).toBeNull();
  });

  it("is null under Node, where the tests run", () => {
    expect(runtimeDenoVersion()).toBeNull();
  });
});

describe("strayWritesPossible", () => {
  it("holds before Deno 2.6 and not from 2.6 on, nor outside Deno", () => {
    expect(strayWritesPossible([2, 1])).toBe(true);
    expect(strayWritesPossible([2, 5])).toBe(true);
    expect(strayWritesPossible([1, 46])).toBe(true);
    expect(strayWritesPossible([2, 6])).toBe(false);
    expect(strayWritesPossible([2, 9])).toBe(false);
    expect(strayWritesPossible([3, 0])).toBe(false);
    expect(strayWritesPossible(null)).toBe(false);
  });
});

describe("isStrayPostgresWrite", () => {
  it("matches the TypeError postgres.js's stray write throws", () => {
    expect(isStrayPostgresWrite(errorWithStack(TypeError, "May not write null values to stream", STRAY_STACK))).toBe(true);
  });

  it("matches a Windows path too", () => {
    const stack = STRAY_STACK.replace("/srv/app/node_modules/postgres/src/connection.js", "C:\\app\\node_modules\\postgres\\src\\connection.js");
    expect(isStrayPostgresWrite(errorWithStack(TypeError, "May not write null values to stream", stack))).toBe(true);
  });

  it("does not match the same message from elsewhere, another error, or a non-error", () => {
    const elsewhere = STRAY_STACK.replace("nextWrite (file:///srv/app/node_modules/postgres/src/connection.js", "flush (file:///srv/app/functions/_shared/x.ts");
    expect(isStrayPostgresWrite(errorWithStack(TypeError, "May not write null values to stream", elsewhere))).toBe(false);
    expect(isStrayPostgresWrite(errorWithStack(TypeError, "Cannot read properties of null (reading 'write')", STRAY_STACK))).toBe(false);
    expect(isStrayPostgresWrite(errorWithStack(Error, "May not write null values to stream", STRAY_STACK))).toBe(false);
    expect(isStrayPostgresWrite("May not write null values to stream")).toBe(false);
    expect(isStrayPostgresWrite(undefined)).toBe(false);
  });
});
