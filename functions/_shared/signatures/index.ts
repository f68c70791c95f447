// The one place webhook signatures are verified: a verifier per scheme, each over the exact raw body,
// each comparing in constant time, each throwing AppError 401 with a stable code on failure.
//
//   Telnyx            Ed25519, telnyx-signature-ed25519 + telnyx-timestamp       (telnyx.ts)
//   Meta              HMAC-SHA256 hex, X-Hub-Signature-256: sha256=…           (meta.ts)
//   Standard Webhooks HMAC-SHA256 base64, webhook-id/-timestamp/-signature     (standard-webhooks.ts)
//   Legacy HMAC       HMAC-SHA256 hex of `${X-Timestamp}.${body}` in X-Signature (legacy-hmac.ts)
//
// Replay protection: each timestamped scheme refuses timestamps outside ±300 s; ids of
// state-changing events are claimed once in Postgres (../replay/guard.ts).
export {
  importTelnyxPublicKey,
  TELNYX_TOLERANCE_SECONDS,
  type TelnyxVerification,
  verifyTelnyxSignature,
} from "./telnyx.ts";
export { META_SIGNATURE_HEADER, signMeta, verifyMetaSignature } from "./meta.ts";
export {
  isStandardWebhookSecret,
  MAX_SIGNATURES,
  parseStandardWebhookSecret,
  signStandardWebhook,
  STANDARD_WEBHOOKS_TOLERANCE_SECONDS,
  type StandardWebhookVerification,
  verifyStandardWebhook,
} from "./standard-webhooks.ts";
export {
  LEGACY_MIN_SECRET_LENGTH,
  LEGACY_TOLERANCE_SECONDS,
  type LegacyVerification,
  signLegacyHmac,
  verifyLegacyHmac,
} from "./legacy-hmac.ts";
export type { RawBody } from "./encoding.ts";

import { verifyLegacyHmac } from "./legacy-hmac.ts";
import { verifyStandardWebhook } from "./standard-webhooks.ts";
import type { RawBody } from "./encoding.ts";

/** The shared-secret schemes an integration may use (integrations.scheme). */
export type HmacScheme = "standard-webhooks" | "legacy-hmac";

export interface SchemeVerification {
  /** The sender's delivery id when the scheme has one (webhook-id), else null. */
  deliveryId: string | null;
  timestamp: number;
}

/** Verifies a request signed with one of the shared-secret schemes an integration can choose. */
export async function verifyHmacScheme(
  scheme: HmacScheme,
  secrets: string | readonly string[],
  headers: Headers,
  rawBody: RawBody,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): Promise<SchemeVerification> {
  switch (scheme) {
    case "standard-webhooks": {
      const { id, timestamp } = await verifyStandardWebhook(secrets, headers, rawBody, options);
      return { deliveryId: id, timestamp };
    }
    case "legacy-hmac": {
      const { timestamp } = await verifyLegacyHmac(secrets, headers, rawBody, options);
      return { deliveryId: null, timestamp };
    }
    default:
      throw new Error(`verifyHmacScheme: unknown scheme ${String(scheme)}`);
  }
}
