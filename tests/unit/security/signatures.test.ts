// Every signature scheme: valid, forged, truncated, re-encoded, stale and future signatures, over the
// raw body. Each refusal is asserted by its stable code.
import { describe, expect, it } from "vitest";
import { AppError } from "../../../functions/_shared/http/errors.ts";
import { encodeBase64, encodeHex, decodeBase64, decodeHex } from "../../../functions/_shared/signatures/encoding.ts";
import {
  importTelnyxPublicKey,
  isStandardWebhookSecret,
  parseStandardWebhookSecret,
  signLegacyHmac,
  signMeta,
  signStandardWebhook,
  verifyHmacScheme,
  verifyLegacyHmac,
  verifyMetaSignature,
  verifyStandardWebhook,
  verifyTelnyxSignature,
} from "../../../functions/_shared/signatures/index.ts";

const NOW = 1_795_420_800;
const BODY = '{"type":"order.created","id":"evt_1001","occurred_at":"2026-11-23T10:00:00Z","data":{"order_id":"A-17"}}';
const SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_SECRET_2 = `whsec_${encodeBase64(new Uint8Array(32).fill(7))}`;
const LEGACY_SECRET = "sb_legacy_example_secret_2026";

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "OK";
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

/** Same bytes, other text: base64 ↔ hex, base64url, upper-case hex. */
function reencodings(b64: string) {
  const bytes = decodeBase64(b64)!;
  return {
    hex: encodeHex(bytes),
    base64url: b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""),
    unpadded: b64.replace(/=+$/, ""),
  };
}

describe("Standard Webhooks", () => {
  const headers = (sig: string, id = "msg_2Kexample", ts = NOW) =>
    new Headers({ "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sig });

  it("matches an independently computed signature (openssl)", async () => {
    const sig = await signStandardWebhook(SW_SECRET, "msg_2Kexample", NOW, BODY);
    expect(sig).toBe("v1,EMf1JkpxFSxd9iR34VW9yMVAsaAy7tFCrLTkWG/8xaE=");
    await expect(verifyStandardWebhook(SW_SECRET, headers(sig), BODY, { nowSeconds: NOW })).resolves.toEqual({
      id: "msg_2Kexample",
      timestamp: NOW,
    });
  });

  it("accepts the raw bytes as well as the text", async () => {
    const sig = await signStandardWebhook(SW_SECRET, "msg_1", NOW, BODY);
    const bytes = new TextEncoder().encode(BODY);
    expect(await codeOf(verifyStandardWebhook(SW_SECRET, headers(sig, "msg_1"), bytes, { nowSeconds: NOW }))).toBe("OK");
  });

  it("accepts any matching signature among several (sender rotating secrets)", async () => {
    const old = await signStandardWebhook(SW_SECRET, "msg_1", NOW, BODY);
    const fresh = await signStandardWebhook(SW_SECRET_2, "msg_1", NOW, BODY);
    expect(await codeOf(verifyStandardWebhook(SW_SECRET_2, headers(`${old} ${fresh}`, "msg_1"), BODY, { nowSeconds: NOW }))).toBe("OK");
    expect(await codeOf(verifyStandardWebhook(SW_SECRET, headers(`${old} ${fresh}`, "msg_1"), BODY, { nowSeconds: NOW }))).toBe("OK");
    // Receiver rotating: both secrets configured, sender still on the old one.
    expect(await codeOf(verifyStandardWebhook([SW_SECRET_2, SW_SECRET], headers(old, "msg_1"), BODY, { nowSeconds: NOW }))).toBe("OK");
  });

  it("skips v1a and unknown versions instead of matching them", async () => {
    const sig = await signStandardWebhook(SW_SECRET, "msg_1", NOW, BODY);
    const b64 = sig.slice(3);
    expect(await codeOf(verifyStandardWebhook(SW_SECRET, headers(`v1a,${b64} v2,${b64}`, "msg_1"), BODY, { nowSeconds: NOW }))).toBe("SIGNATURE_INVALID");
    expect(await codeOf(verifyStandardWebhook(SW_SECRET, headers(`v1a,${b64} ${sig}`, "msg_1"), BODY, { nowSeconds: NOW }))).toBe("OK");
  });

  it("refuses forged, truncated and re-encoded signatures", async () => {
    const sig = await signStandardWebhook(SW_SECRET, "msg_1", NOW, BODY);
    const forged = await signStandardWebhook(SW_SECRET_2, "msg_1", NOW, BODY);
    const b64 = sig.slice(3);
    const re = reencodings(b64);
    const cases = [
      forged,
      `v1,${b64.slice(0, 20)}`,
      `v1,${b64.slice(0, -2)}`,
      `v1,${re.hex}`,
      `v1,${re.base64url}`,
      `v1,${re.unpadded}`,
      b64,
      `v1 ${b64}`,
      "v1,",
    ];
    for (const bad of cases) {
      expect(await codeOf(verifyStandardWebhook(SW_SECRET, headers(bad, "msg_1"), BODY, { nowSeconds: NOW })), bad).toBe("SIGNATURE_INVALID");
    }
  });

  it("refuses a tampered body, id or timestamp", async () => {
    const sig = await signStandardWebhook(SW_SECRET, "msg_1", NOW, BODY);
    expect(await codeOf(verifyStandardWebhook(SW_SECRET, headers(sig, "msg_1"), BODY + " ", { nowSeconds: NOW }))).toBe("SIGNATURE_INVALID");
    expect(await codeOf(verifyStandardWebhook(SW_SECRET, headers(sig, "msg_2"), BODY, { nowSeconds: NOW }))).toBe("SIGNATURE_INVALID");
    expect(await codeOf(verifyStandardWebhook(SW_SECRET, headers(sig, "msg_1", NOW + 1), BODY, { nowSeconds: NOW }))).toBe("SIGNATURE_INVALID");
  });

  it("refuses stale and future timestamps outside ±300 s, accepts the edges", async () => {
    for (const [ts, code] of [
      [NOW - 300, "OK"],
      [NOW + 300, "OK"],
      [NOW - 301, "TIMESTAMP_OUT_OF_TOLERANCE"],
      [NOW + 301, "TIMESTAMP_OUT_OF_TOLERANCE"],
    ] as const) {
      const sig = await signStandardWebhook(SW_SECRET, "msg_1", ts, BODY);
      expect(await codeOf(verifyStandardWebhook(SW_SECRET, headers(sig, "msg_1", ts), BODY, { nowSeconds: NOW })), String(ts)).toBe(code);
    }
  });

  it("refuses missing headers, malformed timestamps and ids", async () => {
    const sig = await signStandardWebhook(SW_SECRET, "msg_1", NOW, BODY);
    expect(await codeOf(verifyStandardWebhook(SW_SECRET, new Headers({ "webhook-signature": sig }), BODY, { nowSeconds: NOW }))).toBe("SIGNATURE_MISSING");
    for (const ts of ["1795420800.5", "-1795420800", "0x6B05E780", "1e9", "tomorrow"]) {
      const h = new Headers({ "webhook-id": "msg_1", "webhook-timestamp": ts, "webhook-signature": sig });
      expect(await codeOf(verifyStandardWebhook(SW_SECRET, h, BODY, { nowSeconds: NOW })), ts).toBe("TIMESTAMP_INVALID");
    }
    for (const id of ["msg.1", "msg 1", "x".repeat(257)]) {
      expect(await codeOf(verifyStandardWebhook(SW_SECRET, headers(sig, id), BODY, { nowSeconds: NOW })), id).toBe("SIGNATURE_INVALID");
    }
  });

  it("refuses a header with too many signatures before computing any", async () => {
    const sig = await signStandardWebhook(SW_SECRET, "msg_1", NOW, BODY);
    const many = Array.from({ length: 17 }, () => sig).join(" ");
    expect(await codeOf(verifyStandardWebhook(SW_SECRET, headers(many, "msg_1"), BODY, { nowSeconds: NOW }))).toBe("SIGNATURE_INVALID");
  });

  it("parses whsec_ secrets strictly", () => {
    expect(parseStandardWebhookSecret(SW_SECRET)).toHaveLength(24);
    for (const bad of ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_c2hvcnQ=", "whsec_!!!!", `whsec_${encodeBase64(new Uint8Array(65))}`]) {
      expect(isStandardWebhookSecret(bad), bad).toBe(false);
    }
  });
});

describe("Meta X-Hub-Signature-256", () => {
  it("matches GitHub's published test vector (same scheme)", async () => {
    expect(await signMeta("It's a Secret to Everybody", "Hello, World!")).toBe(
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
    const h = new Headers({ "x-hub-signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17" });
    expect(await codeOf(verifyMetaSignature("It's a Secret to Everybody", h, "Hello, World!"))).toBe("OK");
  });

  it("refuses forged, truncated, re-encoded and missing signatures", async () => {
    const good = await signMeta("app-secret", BODY);
    const hex = good.slice(7);
    const b64 = encodeBase64(decodeHex(hex)!);
    const cases: [string | null, string][] = [
      [await signMeta("other-secret", BODY), "SIGNATURE_INVALID"],
      [`sha256=${hex.slice(0, 62)}`, "SIGNATURE_INVALID"],
      [`sha256=${b64}`, "SIGNATURE_INVALID"],
      [hex, "SIGNATURE_INVALID"],
      [`sha1=${hex}`, "SIGNATURE_INVALID"],
      [`sha256=${hex}00`, "SIGNATURE_INVALID"],
      [null, "SIGNATURE_MISSING"],
    ];
    for (const [value, code] of cases) {
      const h = new Headers(value === null ? {} : { "x-hub-signature-256": value });
      expect(await codeOf(verifyMetaSignature("app-secret", h, BODY)), String(value)).toBe(code);
    }
    const h = new Headers({ "x-hub-signature-256": good });
    expect(await codeOf(verifyMetaSignature("app-secret", h, BODY))).toBe("OK");
    expect(await codeOf(verifyMetaSignature("app-secret", h, BODY.replace("A-17", "A-18")))).toBe("SIGNATURE_INVALID");
    expect(await codeOf(verifyMetaSignature(["new-secret", "app-secret"], h, BODY))).toBe("OK");
  });

  it("hashes the exact bytes: re-serialised JSON does not verify", async () => {
    const raw = '{ "a": 1,  "b": "é" }';
    const h = new Headers({ "x-hub-signature-256": await signMeta("s3cret", raw) });
    expect(await codeOf(verifyMetaSignature("s3cret", h, JSON.stringify(JSON.parse(raw))))).toBe("SIGNATURE_INVALID");
  });
});

describe("legacy X-Timestamp / X-Signature", () => {
  const headers = (sig: string, ts: number | string = NOW) => new Headers({ "x-timestamp": String(ts), "x-signature": sig });

  it("signs `${timestamp}.${body}` as in docs/security.md's worked example", async () => {
    const sig = await signLegacyHmac(LEGACY_SECRET, NOW, BODY);
    expect(sig).toBe("3b56dd17c35733ee25bccce2ad9c4905942db2cd5030deb9aabddff5e1b73786");
    expect(await codeOf(verifyLegacyHmac(LEGACY_SECRET, headers(sig), BODY, { nowSeconds: NOW }))).toBe("OK");
    expect(await codeOf(verifyLegacyHmac(LEGACY_SECRET, headers(sig.toUpperCase()), BODY, { nowSeconds: NOW }))).toBe("OK");
  });

  it("refuses forged, truncated, re-encoded and prefixed signatures", async () => {
    const sig = await signLegacyHmac(LEGACY_SECRET, NOW, BODY);
    const cases = [
      await signLegacyHmac("another-secret-of-16+", NOW, BODY),
      sig.slice(0, 63),
      sig.slice(0, 32),
      encodeBase64(decodeHex(sig)!),
      `sha256=${sig}`,
      `${sig} `.repeat(2).trim(),
      "",
    ];
    for (const bad of cases) {
      const code = await codeOf(verifyLegacyHmac(LEGACY_SECRET, headers(bad), BODY, { nowSeconds: NOW }));
      expect(code === "SIGNATURE_INVALID" || (bad === "" && code === "SIGNATURE_MISSING"), `${bad}: ${code}`).toBe(true);
    }
  });

  it("binds the timestamp: the same signature with another timestamp fails", async () => {
    const sig = await signLegacyHmac(LEGACY_SECRET, NOW, BODY);
    expect(await codeOf(verifyLegacyHmac(LEGACY_SECRET, headers(sig, NOW - 1), BODY, { nowSeconds: NOW }))).toBe("SIGNATURE_INVALID");
  });

  it("refuses stale, future and malformed timestamps", async () => {
    for (const [ts, code] of [
      [NOW - 301, "TIMESTAMP_OUT_OF_TOLERANCE"],
      [NOW + 301, "TIMESTAMP_OUT_OF_TOLERANCE"],
      [NOW - 300, "OK"],
    ] as const) {
      const sig = await signLegacyHmac(LEGACY_SECRET, ts, BODY);
      expect(await codeOf(verifyLegacyHmac(LEGACY_SECRET, headers(sig, ts), BODY, { nowSeconds: NOW })), String(ts)).toBe(code);
    }
    for (const ts of [`${NOW * 1000}`.slice(0, 13) + "x", "1795420800.0", "abc", "1795420800000000"]) {
      const sig = await signLegacyHmac(LEGACY_SECRET, NOW, BODY);
      const code = await codeOf(verifyLegacyHmac(LEGACY_SECRET, headers(sig, ts), BODY, { nowSeconds: NOW }));
      expect(["TIMESTAMP_INVALID", "TIMESTAMP_OUT_OF_TOLERANCE"], ts).toContain(code);
    }
  });

  it("refuses to run with a short secret (configuration error, not a request error)", async () => {
    await expect(verifyLegacyHmac("short", headers("00"), BODY)).rejects.toThrow(/at least 16/);
  });
});

describe("verifyHmacScheme", () => {
  it("dispatches by scheme and reports the delivery id only for Standard Webhooks", async () => {
    const sw = await signStandardWebhook(SW_SECRET, "msg_9", NOW, BODY);
    const swHeaders = new Headers({ "webhook-id": "msg_9", "webhook-timestamp": String(NOW), "webhook-signature": sw });
    await expect(verifyHmacScheme("standard-webhooks", SW_SECRET, swHeaders, BODY, { nowSeconds: NOW })).resolves.toEqual({
      deliveryId: "msg_9",
      timestamp: NOW,
    });
    const legacy = new Headers({ "x-timestamp": String(NOW), "x-signature": await signLegacyHmac(LEGACY_SECRET, NOW, BODY) });
    await expect(verifyHmacScheme("legacy-hmac", LEGACY_SECRET, legacy, BODY, { nowSeconds: NOW })).resolves.toEqual({
      deliveryId: null,
      timestamp: NOW,
    });
    // A legacy request sent to a Standard Webhooks integration is not authentic.
    expect(await codeOf(verifyHmacScheme("standard-webhooks", SW_SECRET, legacy, BODY, { nowSeconds: NOW }))).toBe("SIGNATURE_MISSING");
  });
});

describe("Telnyx Ed25519 through the same module", () => {
  it("verifies a real signature and refuses a forged one and a stale one", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const key = await importTelnyxPublicKey(encodeBase64(new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey))));
    const sign = async (ts: number, body: string) =>
      encodeBase64(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, new TextEncoder().encode(`${ts}|${body}`))));
    const h = (sig: string, ts = NOW) => new Headers({ "telnyx-signature-ed25519": sig, "telnyx-timestamp": String(ts) });
    expect(await codeOf(verifyTelnyxSignature(key, h(await sign(NOW, BODY)), BODY, NOW))).toBe("OK");
    const other = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const forged = encodeBase64(new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, other.privateKey, new TextEncoder().encode(`${NOW}|${BODY}`))));
    expect(await codeOf(verifyTelnyxSignature(key, h(forged), BODY, NOW))).toBe("SIGNATURE_INVALID");
    const good = await sign(NOW, BODY);
    expect(await codeOf(verifyTelnyxSignature(key, h(good.slice(0, 40)), BODY, NOW))).toBe("SIGNATURE_INVALID");
    expect(await codeOf(verifyTelnyxSignature(key, h(encodeHex(decodeBase64(good)!)), BODY, NOW))).toBe("SIGNATURE_INVALID");
    expect(await codeOf(verifyTelnyxSignature(key, h(await sign(NOW - 301, BODY), NOW - 301), BODY, NOW))).toBe("TIMESTAMP_OUT_OF_TOLERANCE");
  });
});
