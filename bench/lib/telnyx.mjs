// Telnyx stand-in for benchmarks: a key pair, events in Telnyx's documented shape, and requests
// signed as Telnyx signs them (Ed25519 over `${timestamp}|${body}`), pre-encoded for bench/lib/load.mjs.
// Signing uses node:crypto's synchronous Ed25519 (about 25 µs a request), done before the clock starts.
import crypto from "node:crypto";
import { initializationEvent } from "../../scripts/telnyx-events.mjs";
import { encodeRequest } from "./load.mjs";

export function generateKeys() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
  const spki = publicKey.export({ format: "der", type: "spki" });
  return { publicKey: spki.subarray(12).toString("base64"), privateKey };
}

export { initializationEvent };

export function signedHeaders(privateKey, body, timestamp = Math.floor(Date.now() / 1000)) {
  const signature = crypto.sign(null, Buffer.from(`${timestamp}|${body}`), privateKey);
  return {
    "content-type": "application/json",
    "telnyx-signature-ed25519": signature.toString("base64"),
    "telnyx-timestamp": String(timestamp),
  };
}

/** A signed assistant.initialization request, ready for runLoad (each has its own event id). */
export function signedInitialization(url, privateKey, { from, to }) {
  const body = JSON.stringify(initializationEvent({ from, to }));
  return encodeRequest({ url, method: "POST", headers: signedHeaders(privateKey, body), body });
}

/** Sends one signed initialization with fetch; returns { status, ms, answer }. */
export async function callOnce(url, privateKey, { from, to }) {
  const body = JSON.stringify(initializationEvent({ from, to }));
  const t0 = performance.now();
  const res = await fetch(url, { method: "POST", headers: signedHeaders(privateKey, body), body });
  const text = await res.text();
  const ms = performance.now() - t0;
  let answer = null;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = text;
  }
  return { status: res.status, ms, answer, bytes: Buffer.byteLength(text) };
}
