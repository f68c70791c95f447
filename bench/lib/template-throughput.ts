// Run by bench/template-validator.mjs under Deno: validations per second of the template validator on
// the corpus (valid and invalid templates mixed, Meta's examples included), against a baseline
// measured in the same process: a shape-only check (name regex, language regex, body length), what a
// minimal validator does. Prints one JSON line.
import { validateTemplate } from "../../functions/_shared/templates/validator.ts";
import { CORPUS } from "../../tests/unit/templates/corpus.ts";

const payloads = CORPUS.map((c) => c.payload);
const seconds = Number(globalThis.process?.env?.BENCH_SECONDS ?? 2) || 2;

function shapeOnly(p: unknown): boolean {
  if (typeof p !== "object" || p === null) return false;
  const t = p as Record<string, unknown>;
  const body = Array.isArray(t.components) ? (t.components as Record<string, unknown>[]).find((c) => String(c?.type).toUpperCase() === "BODY") : undefined;
  return typeof t.name === "string" && /^[a-z0-9_]{1,512}$/.test(t.name) &&
    typeof t.language === "string" && /^[a-z]{2}(_[A-Z]{2})?$/.test(t.language) &&
    (!body || typeof body.text !== "string" || body.text.length <= 1024);
}

function rate(fn: (p: unknown) => unknown): number {
  // Warm up, then count whole passes over the corpus for `seconds`.
  for (let i = 0; i < 200; i++) for (const p of payloads) fn(p);
  let n = 0;
  const start = performance.now();
  let sink = 0;
  while (performance.now() - start < seconds * 1000) {
    for (const p of payloads) if (fn(p)) sink++;
    n += payloads.length;
  }
  if (sink < 0) console.log(sink);
  return n / ((performance.now() - start) / 1000);
}

const baseline = rate(shapeOnly);
const full = rate((p) => validateTemplate(p).valid);
console.log(JSON.stringify({ cases: payloads.length, invalid: CORPUS.filter((c) => c.errors.length).length, full, baseline }));
