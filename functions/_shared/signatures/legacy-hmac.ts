// The legacy scheme of the system Switchboard replaces, kept so that its senders need no change:
//
//   X-Timestamp: <Unix seconds, digits only>
//   X-Signature: <lowercase hex HMAC-SHA256>
//
// The signed string is `${X-Timestamp}.${raw body}` (the header text exactly as sent, a full stop,
// then the body bytes), keyed with the integration's secret as UTF-8 bytes. Timestamps more than
// 300 s away from now, in either direction, are refused. docs/security.md has a worked example.
import { AppError } from "../http/errors.ts";
import {
  concatBytes,
  decodeHex,
  encodeHex,
  hmacSha256,
  type RawBody,
  rawBodyBytes,
  timingSafeEqual,
  utf8,
} from "./encoding.ts";
import { checkSignedTimestamp } from "./timestamp.ts";

export const LEGACY_TOLERANCE_SECONDS = 300;
/** Shorter secrets are refused as configuration: a 16-byte minimum keeps brute force out of reach. */
export const LEGACY_MIN_SECRET_LENGTH = 16;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

function signedContent(timestamp: string, body: Uint8Array): Uint8Array {
  return concatBytes(utf8(`${timestamp}.`), body);
}

/** The X-Signature value for a body sent at `timestampSeconds`. Used by tests, docs and tools. */
export async function signLegacyHmac(secret: string, timestampSeconds: number, rawBody: RawBody): Promise<string> {
  return encodeHex(await hmacSha256(utf8(secret), signedContent(String(timestampSeconds), rawBodyBytes(rawBody))));
}

export interface LegacyVerification {
  timestamp: number;
}

/**
 * Verifies X-Timestamp/X-Signature over the exact body bytes. `secrets` may hold a current and a
 * previous secret during rotation. Throws AppError 401: SIGNATURE_MISSING, SIGNATURE_INVALID,
 * TIMESTAMP_INVALID, TIMESTAMP_OUT_OF_TOLERANCE.
 */
export async function verifyLegacyHmac(
  secrets: string | readonly string[],
  headers: Headers,
  rawBody: RawBody,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): Promise<LegacyVerification> {
  const list = typeof secrets === "string" ? [secrets] : [...secrets];
  if (list.length === 0 || list.some((s) => s.length < LEGACY_MIN_SECRET_LENGTH)) {
    throw new Error(`verifyLegacyHmac: secrets must be at least ${LEGACY_MIN_SECRET_LENGTH} characters`);
  }
  const timestampHeader = headers.get("x-timestamp");
  const signatureHeader = headers.get("x-signature");
  if (!timestampHeader || !signatureHeader) {
    throw new AppError("SIGNATURE_MISSING", 401, "Missing X-Timestamp or X-Signature header");
  }
  const timestamp = checkSignedTimestamp(
    timestampHeader,
    "X-Timestamp",
    options.nowSeconds ?? Math.floor(Date.now() / 1000),
    options.toleranceSeconds ?? LEGACY_TOLERANCE_SECONDS,
  );
  const signature = signatureHeader.trim();
  const given = HEX_SHA256.test(signature) ? decodeHex(signature) : null;
  if (!given) throw new AppError("SIGNATURE_INVALID", 401, "X-Signature must be 64 hex digits");
  const content = signedContent(timestampHeader.trim(), rawBodyBytes(rawBody));
  let ok = false;
  for (const secret of list) {
    if (timingSafeEqual(await hmacSha256(utf8(secret), content), given)) ok = true;
  }
  if (!ok) throw new AppError("SIGNATURE_INVALID", 401, "Signature does not match");
  return { timestamp };
}
