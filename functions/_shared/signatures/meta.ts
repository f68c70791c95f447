// Meta (WhatsApp Cloud API, Messenger, Instagram) webhook signatures: `X-Hub-Signature-256:
// sha256=<hex>`, the HMAC-SHA256 of the raw request body keyed with the app secret.
// Source: Meta for Developers, "Create a webhook endpoint" (validating payloads); the header format
// and the test vector in tests/unit/security/signatures.test.ts come from GitHub's identical scheme
// (docs "Validating webhook deliveries").
//
// Meta signs nothing time-based, so there is no replay window here: dedupe on the provider's
// message/event ids (a unique constraint, or replay/guard.ts) instead.
import { AppError } from "../http/errors.ts";
import { decodeHex, encodeHex, hmacSha256, type RawBody, rawBodyBytes, timingSafeEqual, utf8 } from "./encoding.ts";

export const META_SIGNATURE_HEADER = "x-hub-signature-256";
const META_SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;

/** `sha256=<hex>` for `rawBody` under `appSecret`: what Meta sends, used by tests and local tools. */
export async function signMeta(appSecret: string, rawBody: RawBody): Promise<string> {
  return `sha256=${encodeHex(await hmacSha256(utf8(appSecret), rawBodyBytes(rawBody)))}`;
}

/**
 * Verifies `X-Hub-Signature-256` over the exact body bytes. Several app secrets may be given while
 * one is being rotated. Throws AppError 401 SIGNATURE_MISSING or SIGNATURE_INVALID.
 */
export async function verifyMetaSignature(
  appSecrets: string | readonly string[],
  headers: Headers,
  rawBody: RawBody,
): Promise<void> {
  const secrets = (typeof appSecrets === "string" ? [appSecrets] : [...appSecrets]).filter((s) => s.length > 0);
  if (secrets.length === 0) throw new Error("verifyMetaSignature: an app secret is required");
  const header = headers.get(META_SIGNATURE_HEADER);
  if (!header) throw new AppError("SIGNATURE_MISSING", 401, `Missing ${META_SIGNATURE_HEADER} header`);
  const match = META_SIGNATURE.exec(header.trim());
  const given = match ? decodeHex(match[1]) : null;
  if (!given) throw new AppError("SIGNATURE_INVALID", 401, `${META_SIGNATURE_HEADER} must be sha256=<64 hex digits>`);
  const body = rawBodyBytes(rawBody);
  let ok = false;
  for (const secret of secrets) {
    // Every secret is tried, so the time taken does not say which one matched.
    if (timingSafeEqual(await hmacSha256(utf8(secret), body), given)) ok = true;
  }
  if (!ok) throw new AppError("SIGNATURE_INVALID", 401, "Signature does not match");
}
