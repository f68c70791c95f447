// Signs requests the way Telnyx does (Ed25519 over `${timestamp}|${body}`), so tests exercise the
// real verification code with real signatures. The events come from scripts/telnyx-events.mjs, which
// the call simulator and the benchmarks use too.
import * as telnyxEvents from "../../scripts/telnyx-events.mjs";

export interface Ed25519KeyPair {
  privateKey: CryptoKey;
  /** base64 of the raw 32-byte public key: a TELNYX_PUBLIC_KEY value */
  publicKey: string;
  /** base64 of the SPKI DER public key: also a TELNYX_PUBLIC_KEY value */
  publicKeySpki: string;
}

const b64 = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(bytes as ArrayBuffer).toString("base64");

export async function generateEd25519KeyPair(): Promise<Ed25519KeyPair> {
  const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
  return {
    privateKey: pair.privateKey,
    publicKey: b64(await crypto.subtle.exportKey("raw", pair.publicKey)),
    publicKeySpki: b64(await crypto.subtle.exportKey("spki", pair.publicKey)),
  };
}

export async function signTelnyx(
  privateKey: CryptoKey,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const signature = await crypto.subtle.sign(
    { name: "Ed25519" },
    privateKey,
    new TextEncoder().encode(`${timestamp}|${body}`),
  );
  return {
    "content-type": "application/json",
    "user-agent": "telnyx-webhooks",
    "telnyx-timestamp": String(timestamp),
    "telnyx-signature-ed25519": b64(signature),
  };
}

/** An assistant.initialization event as Telnyx sends it, as the request body. */
export function initializationEvent(from: string | undefined, to: string, payload: Record<string, unknown> = {}): string {
  return JSON.stringify(telnyxEvents.initializationEvent({ from, to, payload }));
}

/** A call.conversation.ended event as Telnyx sends it, as the request body. */
export function conversationEndedEvent(id: string, from: string, to: string): string {
  return JSON.stringify(telnyxEvents.conversationEndedEvent({ id, from, to }));
}
