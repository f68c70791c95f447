#!/usr/bin/env node
// A local development Ed25519 key pair that stands in for Telnyx's webhook signing key: `npm start`
// trusts its public half and `npm run call` signs with its private half, exactly as Telnyx signs
// (base64 Ed25519 over `${telnyx-timestamp}|${raw body}`). Kept in .switchboard/dev-telnyx-key.json
// (gitignored, mode 0600); it never leaves this machine and is worthless anywhere else.
//
//   node scripts/dev-keys.mjs            prints the public key (creates the pair if missing)
//   node scripts/dev-keys.mjs --rotate   replaces the pair
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DEV_KEY_FILE = path.join(root, ".switchboard", "dev-telnyx-key.json");

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410); the 32 raw key bytes follow it. */
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/**
 * @typedef {{ publicKey: string, publicKeySpki: string, privateKeyPkcs8: string, createdAt: string }} DevKeys
 * publicKey: base64 of the raw 32-byte key (what Telnyx's portal shows); publicKeySpki: base64 DER.
 */

/** Generates a fresh pair, exported to base64 strings. */
export async function generateDevKeys() {
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"]);
  const raw = Buffer.from(await crypto.subtle.exportKey("raw", pair.publicKey));
  const spki = Buffer.from(await crypto.subtle.exportKey("spki", pair.publicKey));
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey("pkcs8", pair.privateKey));
  return {
    publicKey: raw.toString("base64"),
    publicKeySpki: spki.toString("base64"),
    privateKeyPkcs8: pkcs8.toString("base64"),
    createdAt: new Date().toISOString(),
  };
}

/** The stored pair, or null when there is none yet. A damaged file is an error, not a new key. */
export async function loadDevKeys(file = DEV_KEY_FILE) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (error.code === "ENOENT") return null;
    throw error;
  }
  const keys = JSON.parse(text);
  if (!keys?.publicKey || !keys?.privateKeyPkcs8) {
    throw new Error(`${file} is not a development key file; delete it to make a new pair`);
  }
  return keys;
}

/** The stored pair, created on first use. Returns { keys, created }. */
export async function loadOrCreateDevKeys({ file = DEV_KEY_FILE, rotate = false } = {}) {
  const existing = rotate ? null : await loadDevKeys(file);
  if (existing) return { keys: existing, created: false };
  const keys = await generateDevKeys();
  const body = {
    note: "Local development Ed25519 key standing in for Telnyx's webhook key. Never use it elsewhere.",
    ...keys,
  };
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
  return { keys, created: true };
}

/** The raw 32 public key bytes from base64 of either the raw key or its SPKI DER form; null if neither. */
export function rawPublicKeyBytes(base64) {
  if (typeof base64 !== "string" || base64.trim() === "") return null;
  const bytes = Buffer.from(base64.trim(), "base64");
  if (bytes.length === 32) return bytes;
  if (bytes.length === 44 && bytes.subarray(0, 12).equals(SPKI_ED25519_PREFIX)) return bytes.subarray(12);
  return null;
}

/** Whether a TELNYX_PUBLIC_KEY value (raw or SPKI base64) is the public half of `keys`. */
export function isDevPublicKey(value, keys) {
  const given = rawPublicKeyBytes(value);
  return given !== null && given.equals(Buffer.from(keys.publicKey, "base64"));
}

/** The private signing key as a WebCrypto CryptoKey. */
export function importPrivateKey(keys) {
  return crypto.subtle.importKey("pkcs8", Buffer.from(keys.privateKeyPkcs8, "base64"), { name: "Ed25519" }, false, [
    "sign",
  ]);
}

/**
 * Telnyx's headers for `body`: base64 Ed25519 signature over `${timestamp}|${body}`.
 * @param {CryptoKey} privateKey
 * @param {string} body the exact bytes that will be sent
 * @param {number} [timestamp] unix seconds; now by default
 */
export async function signTelnyx(privateKey, body, timestamp = Math.floor(Date.now() / 1000)) {
  const signature = await crypto.subtle.sign("Ed25519", privateKey, new TextEncoder().encode(`${timestamp}|${body}`));
  return {
    "telnyx-signature-ed25519": Buffer.from(signature).toString("base64"),
    "telnyx-timestamp": String(timestamp),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rotate = process.argv.includes("--rotate");
  const { keys, created } = await loadOrCreateDevKeys({ rotate });
  console.log(`${created ? "Created" : "Using"} ${path.relative(process.cwd(), DEV_KEY_FILE) || DEV_KEY_FILE}`);
  console.log(`TELNYX_PUBLIC_KEY (raw, base64):  ${keys.publicKey}`);
  console.log(`TELNYX_PUBLIC_KEY (SPKI, base64): ${keys.publicKeySpki}`);
}
