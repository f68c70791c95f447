import { beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../../../functions/_shared/http/errors.ts";
import {
  decodeTelnyxPublicKey,
  importTelnyxPublicKey,
  verifyTelnyxSignature,
} from "../../../functions/_shared/signatures/telnyx.ts";
import { generateEd25519KeyPair, signTelnyx, type Ed25519KeyPair } from "../../support/telnyx-signing.ts";

const body = '{"data":{"event_type":"assistant.initialization","payload":{}}}';
let keys: Ed25519KeyPair;
let key: CryptoKey;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "OK";
  } catch (error) {
    return error instanceof AppError ? error.code : `unexpected: ${(error as Error).message}`;
  }
}

beforeAll(async () => {
  keys = await generateEd25519KeyPair();
  key = await importTelnyxPublicKey(keys.publicKey);
});

describe("verifyTelnyxSignature", () => {
  it("accepts a signature made with the matching private key", async () => {
    const headers = new Headers(await signTelnyx(keys.privateKey, body));
    expect(await codeOf(verifyTelnyxSignature(key, headers, body))).toBe("OK");
  });

  it("accepts the key in SPKI and PEM form as well as raw", async () => {
    const headers = new Headers(await signTelnyx(keys.privateKey, body));
    const spki = await importTelnyxPublicKey(keys.publicKeySpki);
    const pem = await importTelnyxPublicKey(`-----BEGIN PUBLIC KEY-----\n${keys.publicKeySpki}\n-----END PUBLIC KEY-----`);
    expect(await codeOf(verifyTelnyxSignature(spki, headers, body))).toBe("OK");
    expect(await codeOf(verifyTelnyxSignature(pem, headers, body))).toBe("OK");
  });

  it("refuses a body changed by one character", async () => {
    const headers = new Headers(await signTelnyx(keys.privateKey, body));
    expect(await codeOf(verifyTelnyxSignature(key, headers, body.replace("}}}", "} }}")))).toBe("SIGNATURE_INVALID");
  });

  it("refuses a signature made with another key", async () => {
    const other = await generateEd25519KeyPair();
    const headers = new Headers(await signTelnyx(other.privateKey, body));
    expect(await codeOf(verifyTelnyxSignature(key, headers, body))).toBe("SIGNATURE_INVALID");
  });

  it("refuses a signature replayed with another timestamp", async () => {
    const signed = await signTelnyx(keys.privateKey, body, 1_900_000_000);
    const headers = new Headers({ ...signed, "telnyx-timestamp": "1900000001" });
    expect(await codeOf(verifyTelnyxSignature(key, headers, body, 1_900_000_000))).toBe("SIGNATURE_INVALID");
  });

  it("refuses timestamps more than 300 s old or ahead, and accepts 300 s exactly", async () => {
    const now = 1_900_000_000;
    const at = async (ts: number) =>
      codeOf(verifyTelnyxSignature(key, new Headers(await signTelnyx(keys.privateKey, body, ts)), body, now));
    expect(await at(now - 301)).toBe("TIMESTAMP_OUT_OF_TOLERANCE");
    expect(await at(now + 301)).toBe("TIMESTAMP_OUT_OF_TOLERANCE");
    expect(await at(now - 300)).toBe("OK");
    expect(await at(now + 300)).toBe("OK");
  });

  it("refuses missing headers, non-numeric timestamps and malformed signatures", async () => {
    const signed = await signTelnyx(keys.privateKey, body);
    const without = (name: string) => {
      const h = new Headers(signed);
      h.delete(name);
      return h;
    };
    expect(await codeOf(verifyTelnyxSignature(key, without("telnyx-signature-ed25519"), body))).toBe("SIGNATURE_MISSING");
    expect(await codeOf(verifyTelnyxSignature(key, without("telnyx-timestamp"), body))).toBe("SIGNATURE_MISSING");
    const ts = new Headers({ ...signed, "telnyx-timestamp": "1.9e9" });
    expect(await codeOf(verifyTelnyxSignature(key, ts, body))).toBe("TIMESTAMP_INVALID");
    const truncated = new Headers({ ...signed, "telnyx-signature-ed25519": signed["telnyx-signature-ed25519"].slice(0, 40) });
    expect(await codeOf(verifyTelnyxSignature(key, truncated, body))).toBe("SIGNATURE_INVALID");
    const hex = Buffer.from(signed["telnyx-signature-ed25519"], "base64").toString("hex");
    const reencoded = new Headers({ ...signed, "telnyx-signature-ed25519": hex });
    expect(await codeOf(verifyTelnyxSignature(key, reencoded, body))).toBe("SIGNATURE_INVALID");
  });
});

describe("decodeTelnyxPublicKey", () => {
  it("rejects keys that are not 32 raw bytes or an Ed25519 SPKI", () => {
    expect(() => decodeTelnyxPublicKey("not base64!")).toThrow(/TELNYX_PUBLIC_KEY/);
    expect(() => decodeTelnyxPublicKey(Buffer.alloc(31).toString("base64"))).toThrow(/TELNYX_PUBLIC_KEY/);
    const rsaLike = Buffer.alloc(44, 1).toString("base64");
    expect(() => decodeTelnyxPublicKey(rsaLike)).toThrow(/TELNYX_PUBLIC_KEY/);
  });
});
