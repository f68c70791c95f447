// Telnyx webhook signatures: Ed25519 over `${telnyx-timestamp}|${raw body}`, base64 in the
// `telnyx-signature-ed25519` header, timestamp in Unix seconds in `telnyx-timestamp`.
// Source: developers.telnyx.com "Receiving webhooks" (webhook signing). Telnyx's docs give no
// tolerance; every official SDK uses 300 s in both directions, and so do we.
import { AppError } from "../http/errors.ts";
import { decodeBase64, type OwnBytes } from "./encoding.ts";
import { checkSignedTimestamp } from "./timestamp.ts";

export const TELNYX_TOLERANCE_SECONDS = 300;

// DER prefix of an Ed25519 SubjectPublicKeyInfo: SEQUENCE, AlgorithmIdentifier(1.3.101.112), BIT STRING.
const SPKI_ED25519_PREFIX = new Uint8Array([
  0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
]);

/**
 * Reads TELNYX_PUBLIC_KEY: base64 of the raw 32-byte key, or of its SPKI DER form (as the Portal
 * sometimes shows it, starting "MCowBQYDK2Vw"). PEM armour is accepted too. Throws on anything else.
 */
export function decodeTelnyxPublicKey(text: string): OwnBytes {
  const body = text
    .replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "")
    .replace(/\s+/g, "");
  const bytes = decodeBase64(body);
  let raw: OwnBytes | null = null;
  if (bytes?.length === 32) raw = bytes;
  if (bytes?.length === 44 && SPKI_ED25519_PREFIX.every((b, i) => bytes[i] === b)) raw = bytes.slice(12);
  if (!raw) {
    throw new Error(
      "TELNYX_PUBLIC_KEY must be the base64 Ed25519 public key from the Telnyx Portal (32 raw bytes or SPKI)",
    );
  }
  return raw;
}

export async function importTelnyxPublicKey(text: string): Promise<CryptoKey> {
  const raw = decodeTelnyxPublicKey(text);
  return await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
}

export interface TelnyxVerification {
  timestamp: number;
}

/**
 * Verifies a Telnyx-signed request. Throws AppError 401 (SIGNATURE_MISSING, TIMESTAMP_INVALID,
 * TIMESTAMP_OUT_OF_TOLERANCE, SIGNATURE_INVALID) and returns the signed timestamp on success.
 */
export async function verifyTelnyxSignature(
  key: CryptoKey,
  headers: Headers,
  rawBody: string,
  nowSeconds = Math.floor(Date.now() / 1000),
  toleranceSeconds = TELNYX_TOLERANCE_SECONDS,
): Promise<TelnyxVerification> {
  const signatureHeader = headers.get("telnyx-signature-ed25519");
  const timestampHeader = headers.get("telnyx-timestamp");
  if (!signatureHeader || !timestampHeader) {
    throw new AppError("SIGNATURE_MISSING", 401, "Missing telnyx-signature-ed25519 or telnyx-timestamp header");
  }
  const timestamp = checkSignedTimestamp(timestampHeader, "telnyx-timestamp", nowSeconds, toleranceSeconds);
  const signature = decodeBase64(signatureHeader);
  if (!signature || signature.length !== 64) {
    throw new AppError("SIGNATURE_INVALID", 401, "Signature is not a base64 Ed25519 signature");
  }
  const signed = new TextEncoder().encode(`${timestampHeader.trim()}|${rawBody}`);
  const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, signature, signed);
  if (!ok) throw new AppError("SIGNATURE_INVALID", 401, "Signature does not match");
  return { timestamp };
}
