// Strict decoders for signature material. Anything malformed is rejected before any comparison.

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX = /^(?:[0-9a-fA-F]{2})+$/;

/** Standard base64 (with padding) to bytes; null when the text is not canonical base64. */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> | null {
  const clean = text.trim();
  if (clean === "" || !BASE64.test(clean)) return null;
  const binary = atob(clean);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

/** base64url without padding (RFC 4648 §5): for tokens that travel in headers and URLs. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return encodeBase64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function decodeHex(text: string): Uint8Array<ArrayBuffer> | null {
  if (!HEX.test(text)) return null;
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

export function encodeHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Compares two byte strings in time that depends only on their length. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

// ---------------------------------------------------------------------------------------------
// Shared by the HMAC schemes (meta.ts, standard-webhooks.ts, legacy-hmac.ts).
// ---------------------------------------------------------------------------------------------

/** A request body as the sender signed it: the exact bytes, or text that is encoded as UTF-8. */
export type RawBody = string | Uint8Array;

const utf8Encoder = new TextEncoder();

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

export function rawBodyBytes(body: RawBody): Uint8Array {
  return typeof body === "string" ? utf8(body) : body;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** An HMAC-SHA256 key for signing and verifying, from raw key bytes. */
export async function importHmacKey(keyBytes: Uint8Array): Promise<CryptoKey> {
  if (keyBytes.byteLength === 0) throw new Error("importHmacKey: the key must not be empty");
  return await crypto.subtle.importKey("raw", keyBytes as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
}

/** HMAC-SHA256 of `data` under `key` (a CryptoKey from importHmacKey, or raw key bytes). */
export async function hmacSha256(key: CryptoKey | Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  const cryptoKey = key instanceof Uint8Array ? await importHmacKey(key) : key;
  return new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, data as BufferSource));
}
