// Standard Webhooks v1 (symmetric): HMAC-SHA256 over `${webhook-id}.${webhook-timestamp}.${body}`,
// keyed with the base64-decoded part of a `whsec_` secret, sent base64 as `v1,<sig>` in
// `webhook-signature`; several space-separated signatures allow zero-downtime rotation.
// Source: standard-webhooks/standard-webhooks spec/standard-webhooks.md ("Signature scheme",
// "Verifying signatures"); the 300 s tolerance in both directions is the reference library's
// WEBHOOK_TOLERANCE_IN_SECONDS. Asymmetric `v1a` entries are not accepted here and are skipped.
import { AppError } from "../http/errors.ts";
import {
  concatBytes,
  decodeBase64,
  encodeBase64,
  hmacSha256,
  type RawBody,
  rawBodyBytes,
  timingSafeEqual,
  utf8,
} from "./encoding.ts";
import { checkSignedTimestamp } from "./timestamp.ts";

export const STANDARD_WEBHOOKS_TOLERANCE_SECONDS = 300;
/** A header with more entries than this is refused before any HMAC is computed. */
export const MAX_SIGNATURES = 16;
const MAX_SIGNATURE_HEADER_LENGTH = 4096;
// The spec asks that ids carry no "."; printable ASCII without space or ".", as Svix's msg_… ids are.
const WEBHOOK_ID = /^[\x21-\x2d\x2f-\x7e]{1,256}$/;
const SECRET_PREFIX = "whsec_";

/**
 * Decodes a `whsec_<base64>` secret to its key bytes. The spec asks for 24 to 64 random bytes; a
 * secret outside that range, without the prefix or with bad base64 throws (a configuration error).
 */
export function parseStandardWebhookSecret(secret: string): Uint8Array {
  if (!secret.startsWith(SECRET_PREFIX)) {
    throw new Error("A Standard Webhooks secret must start with whsec_");
  }
  const key = decodeBase64(secret.slice(SECRET_PREFIX.length));
  if (!key || key.length < 24 || key.length > 64) {
    throw new Error("A Standard Webhooks secret must be whsec_ followed by base64 of 24 to 64 bytes");
  }
  return key;
}

/** True when `secret` is a usable `whsec_` secret. */
export function isStandardWebhookSecret(secret: string): boolean {
  try {
    parseStandardWebhookSecret(secret);
    return true;
  } catch {
    return false;
  }
}

function signedContent(id: string, timestamp: string, body: Uint8Array): Uint8Array {
  return concatBytes(utf8(`${id}.${timestamp}.`), body);
}

/** `v1,<base64>` for a message: what a sender puts in webhook-signature. Used by tests and tools. */
export async function signStandardWebhook(
  secret: string,
  id: string,
  timestampSeconds: number,
  rawBody: RawBody,
): Promise<string> {
  const key = parseStandardWebhookSecret(secret);
  const mac = await hmacSha256(key, signedContent(id, String(timestampSeconds), rawBodyBytes(rawBody)));
  return `v1,${encodeBase64(mac)}`;
}

export interface StandardWebhookVerification {
  /** webhook-id: the same on every retry of one message; use it as the idempotency key. */
  id: string;
  timestamp: number;
}

export interface VerifyOptions {
  nowSeconds?: number;
  toleranceSeconds?: number;
}

/**
 * Verifies a Standard Webhooks request over the exact body bytes. `secrets` may hold the current and
 * the previous `whsec_` secret while the receiver rotates. Throws AppError 401: SIGNATURE_MISSING,
 * SIGNATURE_INVALID (also for a malformed webhook-id), TIMESTAMP_INVALID, TIMESTAMP_OUT_OF_TOLERANCE.
 */
export async function verifyStandardWebhook(
  secrets: string | readonly string[],
  headers: Headers,
  rawBody: RawBody,
  options: VerifyOptions = {},
): Promise<StandardWebhookVerification> {
  const keys = (typeof secrets === "string" ? [secrets] : [...secrets]).map(parseStandardWebhookSecret);
  if (keys.length === 0) throw new Error("verifyStandardWebhook: a secret is required");
  const id = headers.get("webhook-id");
  const timestampHeader = headers.get("webhook-timestamp");
  const signatureHeader = headers.get("webhook-signature");
  if (!id || !timestampHeader || !signatureHeader) {
    throw new AppError("SIGNATURE_MISSING", 401, "Missing webhook-id, webhook-timestamp or webhook-signature header");
  }
  if (!WEBHOOK_ID.test(id)) throw new AppError("SIGNATURE_INVALID", 401, "webhook-id is malformed");
  const timestamp = checkSignedTimestamp(
    timestampHeader,
    "webhook-timestamp",
    options.nowSeconds ?? Math.floor(Date.now() / 1000),
    options.toleranceSeconds ?? STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
  );
  if (signatureHeader.length > MAX_SIGNATURE_HEADER_LENGTH) {
    throw new AppError("SIGNATURE_INVALID", 401, "webhook-signature is too long");
  }
  const entries = signatureHeader.trim().split(/ +/);
  if (entries.length > MAX_SIGNATURES) {
    throw new AppError("SIGNATURE_INVALID", 401, `webhook-signature holds more than ${MAX_SIGNATURES} signatures`);
  }
  // Only well-formed v1 entries count; anything else (v1a, other versions, bad base64, wrong length)
  // is skipped, as the spec lets a consumer try each signature until one matches.
  const candidates: Uint8Array[] = [];
  for (const entry of entries) {
    const comma = entry.indexOf(",");
    if (comma < 0 || entry.slice(0, comma) !== "v1") continue;
    const bytes = decodeBase64(entry.slice(comma + 1));
    if (bytes && bytes.length === 32) candidates.push(bytes);
  }
  if (candidates.length === 0) throw new AppError("SIGNATURE_INVALID", 401, "No v1 signature in webhook-signature");
  const content = signedContent(id, timestampHeader.trim(), rawBodyBytes(rawBody));
  let ok = false;
  for (const key of keys) {
    const expected = await hmacSha256(key, content);
    for (const candidate of candidates) if (timingSafeEqual(expected, candidate)) ok = true;
  }
  if (!ok) throw new AppError("SIGNATURE_INVALID", 401, "No matching signature found");
  return { id, timestamp };
}
