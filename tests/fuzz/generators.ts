// Generated malformed requests for the fuzz suite: a seeded PRNG (the seed is printed, so a failure
// can be replayed with FUZZ_SEED) and generators for methods, paths, headers and bodies.
import { parseEnvelope } from "../../functions/_shared/integrations/envelope.ts";

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly rand: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.rand() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.rand() * items.length)];
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
}

const ODD_STRINGS = [
  "", " ", "\u0000", "\ud800", "\udfff", "\u202e", "\ufeff", "😀", "𝕏".repeat(50), "é".normalize("NFD"),
  "a".repeat(5000), "<script>alert(1)</script>", "'; drop table integrations; --", "%00", "../../etc/passwd",
  "\r\n", "null", "true", "{}", "[]", "1e309", "-0", "\\", '"', "\u2028\u2029", "ﷺ", "\u0085",
];

export const VALID_ENVELOPE = () => ({
  type: "order.created",
  id: `evt_${Math.random().toString(36).slice(2)}`,
  occurred_at: new Date().toISOString(),
  data: { a: 1 },
});

function deep(depth: number, open: string, close: string): string {
  return open.repeat(depth) + close.repeat(depth);
}

/** A body that is never a valid envelope: broken JSON, wrong types, odd unicode, huge or deep. */
export function badBody(g: Gen): { body: string | Uint8Array; kind: string } {
  const kind = g.pick([
    "truncated", "garbage", "wrong-type", "bad-field", "extra-field", "unicode", "deep-array", "deep-object",
    "huge-string", "over-limit", "invalid-utf8", "bom", "numbers", "proto", "empty", "duplicate-keys", "nul-in-data",
    "surrogate-in-data", "deep-data", "many-keys",
  ]);
  const env = VALID_ENVELOPE();
  switch (kind) {
    case "truncated": {
      const s = JSON.stringify(env);
      return { kind, body: s.slice(0, g.int(0, s.length - 1)) };
    }
    case "garbage":
      return { kind, body: g.pick(["{", "}", "[", "nul", "{'a':1}", "{\"a\":}", "{\"a\" 1}", "NaN", "undefined", "{\"a\":1,}", "\u0000\u0001", "<xml/>", "a=1&b=2"]) };
    case "wrong-type":
      return { kind, body: JSON.stringify(g.pick([null, 1, "x", true, [], [env], 1.5, -1])) };
    case "bad-field": {
      const field = g.pick(["type", "id", "occurred_at", "data"] as const);
      const value = g.pick<unknown>([null, 1, "", [], {}, true, g.pick(ODD_STRINGS), "x".repeat(300), "2026-13-45T99:99:99Z", "0000-01-01T00:00:00Z"]);
      const out: Record<string, unknown> = { ...env, [field]: value };
      if (g.chance(0.3)) delete out[field];
      return { kind, body: JSON.stringify(out) };
    }
    case "extra-field":
      return { kind, body: JSON.stringify({ ...env, [g.pick(["extra", "__proto__x", "constructor", "Type", "ID"])]: 1 }) };
    case "unicode":
      return { kind, body: JSON.stringify({ ...env, type: g.pick(ODD_STRINGS), id: g.pick(ODD_STRINGS) }) };
    case "deep-array":
      return { kind, body: deep(g.int(1000, 100_000), "[", "]") };
    case "deep-object":
      return { kind, body: '{"a":'.repeat(g.int(100, 20_000)) + "1" + "}".repeat(g.int(100, 20_000)) };
    case "huge-string":
      return { kind, body: JSON.stringify({ ...env, type: "x".repeat(g.int(1000, 200_000)) }) };
    case "over-limit":
      return { kind, body: JSON.stringify({ ...env, data: { blob: "x".repeat(g.int(270_000, 1_200_000)) } }) };
    case "invalid-utf8":
      return { kind, body: new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, g.pick([0xff, 0xc0, 0xe0, 0xed]), 0xa0, 0x80, 0x7d]) };
    case "bom":
      return { kind, body: "\ufeff" + JSON.stringify({ ...env, id: "" }) };
    case "numbers":
      return { kind, body: `{"type":"t","id":"i","occurred_at":"2026-01-01T00:00:00Z","data":{"n":${g.pick(["1e400", "-1e400", "NaN", "Infinity", "0x10", "01", "1.", ".5"])}}}` };
    case "proto":
      return { kind, body: `{"__proto__":{"type":"x"},"constructor":{"prototype":{}},"id":"x","occurred_at":"2026-01-01T00:00:00Z","data":{}}` };
    case "empty":
      return { kind, body: "" };
    case "duplicate-keys":
      return { kind, body: `{"type":"a","type":1,"id":"x","occurred_at":"2026-01-01T00:00:00Z","data":{}}` };
    case "nul-in-data":
      return { kind, body: JSON.stringify({ ...env, data: { a: `x\u0000${g.pick(ODD_STRINGS)}` } }) };
    case "surrogate-in-data":
      return { kind, body: `{"type":"t","id":"i${g.int(0, 1e9)}","occurred_at":"2026-01-01T00:00:00Z","data":{"a":"\\ud800"}}` };
    case "deep-data": {
      let v = "1";
      for (let i = 0; i < g.int(33, 3000); i++) v = `{"a":${v}}`;
      return { kind, body: `{"type":"t","id":"i","occurred_at":"2026-01-01T00:00:00Z","data":${v}}` };
    }
    case "many-keys": {
      const data: Record<string, number> = {};
      for (let i = 0; i < g.int(20_001, 25_000); i++) data[`k${i}`] = i;
      return { kind, body: JSON.stringify({ ...env, data }) };
    }
  }
  return { kind: "empty", body: "" };
}

/**
 * Whether the integrations function must refuse this body whatever its signature: over the size limit,
 * not JSON, or not a valid envelope. The fuzz suite only sends such bodies, so that "no row written"
 * is a real check.
 */
export function isMalformed(body: string | Uint8Array, maxBytes = 256 * 1024): boolean {
  if (typeof body !== "string") return true;
  if (new TextEncoder().encode(body).length > maxBytes) return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return true;
  }
  try {
    parseEnvelope(parsed);
    return false;
  } catch {
    return true;
  }
}

/** badBody(), drawn again until the body is malformed. */
export function malformedBody(g: Gen): { body: string | Uint8Array; kind: string } {
  for (;;) {
    const b = badBody(g);
    if (isMalformed(b.body)) return b;
  }
}

const LATIN1_ODD = ["", " ", "\u00e9", "\u00ff", "x".repeat(4000), "a,b,c", "v1,", "v1,====", "sha256=", "\t", "0", "-1", "1e9", "1795420800.5"];

/** Header values that are wrong in every way a Headers object allows (ByteStrings only). */
export function badHeaderValue(g: Gen): string {
  return g.pick(LATIN1_ODD);
}

export function badContentType(g: Gen): string | null {
  return g.pick([null, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
    "application/json; charset=latin1", "application/jsonx", "APPLICATION/JSON", "application/json;;", "*/*",
    "application/json", "application/json; charset=utf-8", "\u00e9/\u00e9"]);
}

export function badForwardedFor(g: Gen): string | null {
  return g.pick([null, "010.0.0.5", "0x0a.0.0.1", "::ffff:10.0.0.1", "1.2.3.4, 5.6.7.8", "unknown", "[::1]:80",
    "1.2.3.4:5678", Array.from({ length: 200 }, (_, i) => `10.0.0.${i % 255}`).join(","), "fe80::1%eth0", "", " , , "]);
}

export function badPathSuffix(g: Gen): string {
  return g.pick(["", "/", "/extra", "/..", "/%2e%2e", "/%00", "?x=1", "?" + "a".repeat(3000), "/" + "x".repeat(2000),
    "/%F0%9F%98%80", "//", "/detailed/more", ";jsessionid=1", "#frag"]);
}

export const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"] as const;
