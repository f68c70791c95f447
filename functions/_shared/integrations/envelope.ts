// The envelope every integration posts (docs/security.md):
//
//   { "type": "order.created", "id": "evt_123", "occurred_at": "2026-11-23T10:00:00Z", "data": { … } }
//
//   type         1-100 characters: letters, digits and _ . : - /, starting with a letter or digit
//   id           1-200 printable ASCII characters, no spaces: the sender's event id (unique per integration)
//   occurred_at  ISO 8601 date-time with Z or an offset, years 1970-9999
//   data         a JSON object, nested at most MAX_JSON_DEPTH deep
//
// No other top-level field is accepted. Strings anywhere must be valid Unicode without U+0000
// (Postgres jsonb cannot store either), which is checked here so that such input is a 422, not a 500.
import { z } from "zod";
import { AppError } from "../http/errors.ts";

export const DEFAULT_MAX_JSON_DEPTH = 32;
export const MAX_JSON_NODES = 20_000;

export const EventEnvelopeSchema = z
  .object({
    type: z.string().min(1).max(100).regex(/^[A-Za-z0-9][A-Za-z0-9_.:\/-]*$/),
    id: z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/),
    occurred_at: z.iso.datetime({ offset: true }),
    data: z.record(z.string(), z.unknown()),
  })
  .strict();

export type EventEnvelope = z.infer<typeof EventEnvelopeSchema>;

// A lone surrogate half (invalid UTF-16, which JSON's \uD800 escapes can produce) or U+0000.
const UNSTORABLE = /[\u0000]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Walks a parsed JSON value without recursion: null when it is storable, else what is wrong (without
 * quoting the input).
 */
export function jsonContentProblem(value: unknown, maxDepth: number): string | null {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  let nodes = 0;
  while (stack.length) {
    const { v, depth } = stack.pop()!;
    if (++nodes > MAX_JSON_NODES) return `more than ${MAX_JSON_NODES} values`;
    if (typeof v === "string") {
      if (UNSTORABLE.test(v)) return "a string holds U+0000 or an unpaired surrogate";
    } else if (v !== null && typeof v === "object") {
      if (depth >= maxDepth) return `nested deeper than ${maxDepth} levels`;
      if (Array.isArray(v)) {
        for (const item of v) stack.push({ v: item, depth: depth + 1 });
      } else {
        for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
          if (UNSTORABLE.test(k)) return "a key holds U+0000 or an unpaired surrogate";
          stack.push({ v: item, depth: depth + 1 });
        }
      }
    } else if (typeof v === "number" && !Number.isFinite(v)) {
      return "a number is out of range";
    }
  }
  return null;
}

/** Validates a parsed body as the envelope; throws AppError 422 INVALID_EVENT naming what is wrong. */
export function parseEnvelope(body: unknown, maxDepth = DEFAULT_MAX_JSON_DEPTH): EventEnvelope {
  const result = EventEnvelopeSchema.safeParse(body);
  if (!result.success) {
    const problems = result.error.issues.slice(0, 5).map((issue) => {
      const path = issue.path.map(String).join(".") || "(body)";
      return issue.code === "unrecognized_keys" ? `${path}: unknown field` : `${path}: ${issue.code}`;
    });
    throw new AppError("INVALID_EVENT", 422, `Event does not match the envelope: ${problems.join("; ")}`);
  }
  const event = result.data;
  const year = Number(event.occurred_at.slice(0, 4));
  if (!(year >= 1970 && year <= 9999) || !Number.isFinite(Date.parse(event.occurred_at))) {
    throw new AppError("INVALID_EVENT", 422, "occurred_at: out of range");
  }
  const problem = jsonContentProblem(event.data, maxDepth);
  if (problem) throw new AppError("INVALID_EVENT", 422, `data: ${problem}`);
  return event;
}
