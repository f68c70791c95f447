// Signs requests the way Telnyx does (Ed25519 over `${timestamp}|${body}`), so tests exercise the
// real verification code with real signatures.

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

/** An assistant.initialization event exactly as Telnyx documents it. */
export function initializationEvent(from: string, to: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    data: {
      record_type: "event",
      id: `event_${crypto.randomUUID()}`,
      event_type: "assistant.initialization",
      occurred_at: new Date().toISOString(),
      payload: {
        telnyx_conversation_channel: "phone_call",
        telnyx_agent_target: to,
        telnyx_end_user_target: from,
        telnyx_end_user_target_verified: false,
        call_control_id: "v3:u5OAKGEPT3Dx8SZSSDRWEMdNH2OripQhO",
        assistant_id: "assistant_12345678-90ab-cdef-1234-567890abcdef",
        ...overrides,
      },
    },
  });
}

/** A call.conversation.ended event in the shape of Telnyx's callback reference. */
export function conversationEndedEvent(id: string, from: string, to: string): string {
  return JSON.stringify({
    data: {
      record_type: "event",
      event_type: "call.conversation.ended",
      id,
      occurred_at: "2026-11-20T13:35:38.817785Z",
      created_at: "2026-11-20T13:35:38.927621Z",
      payload: {
        assistant_id: "assistant-d9082b56-ba2d-4ad1-a50c-58661eb1463d",
        call_control_id: "v3:HDR1vQHx697hpP9xZ0bhlbUOWPFPDtPcxw",
        call_leg_id: "cc29cce6-3c91-11f0-a8e5-02420aef3d20",
        call_session_id: "cc29c8d6-3c91-11f0-aa7c-02420aef3d20",
        calling_party_type: "pstn",
        conversation_id: "0424805b-adc1-4ff8-9f95-e1de6883ecbe",
        duration_sec: 93,
        from,
        to,
        llm_model: "openai/gpt-4o",
        reason: "user_hangup",
      },
    },
  });
}
