// Tokens and client secrets are stored sealed: AES-256-GCM with a random 96-bit IV, as
// 'v1.<base64url iv>.<base64url ciphertext+tag>' (the table's CHECK accepts nothing else). The key
// is ZOHO_TOKEN_ENCRYPTION_KEY, else the Vault secret 'switchboard_zoho_token_key' on Supabase; with
// neither, nothing can be stored and the Zoho features fail closed (NOT_CONFIGURED). The org and
// product are bound as additional data, so a sealed token copied to another row does not open.
import type { Sql } from "../db/client.ts";
import { AppError } from "../http/errors.ts";
import { decodeBase64, encodeBase64Url, type OwnBytes, utf8 } from "../signatures/encoding.ts";

export interface Sealer {
  seal(plain: string, context: string): Promise<string>;
  open(sealed: string, context: string): Promise<string>;
}

function decodeB64Any(text: string): OwnBytes | null {
  const std = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
  return decodeBase64(std + "=".repeat((4 - (std.length % 4)) % 4));
}

export async function importSealingKey(base64: string): Promise<CryptoKey> {
  const bytes = decodeB64Any(base64.trim());
  if (!bytes || bytes.length !== 32) throw new AppError("NOT_CONFIGURED", 503, "The token sealing key must be 32 bytes in Base64");
  return await crypto.subtle.importKey("raw", bytes, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

export function createSealer(key: CryptoKey): Sealer {
  return {
    async seal(plain, context) {
      const iv = crypto.getRandomValues(new Uint8Array(12));
      const ct = new Uint8Array(await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: utf8(context) as BufferSource }, key, utf8(plain) as BufferSource,
      ));
      return `v1.${encodeBase64Url(iv)}.${encodeBase64Url(ct)}`;
    },
    async open(sealed, context) {
      const [version, ivText, ctText] = sealed.split(".");
      const iv = ivText ? decodeB64Any(ivText) : null;
      const ct = ctText ? decodeB64Any(ctText) : null;
      if (version !== "v1" || !iv || !ct) throw new AppError("NOT_CONFIGURED", 503, "A stored Zoho token is not in a known format");
      try {
        const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: utf8(context) as BufferSource }, key, ct);
        return new TextDecoder().decode(plain);
      } catch {
        throw new AppError("NOT_CONFIGURED", 503, "A stored Zoho token cannot be opened with the configured key");
      }
    },
  };
}

/**
 * The sealer from ZOHO_TOKEN_ENCRYPTION_KEY, else from Vault (read once, lazily). Resolves to null
 * when neither exists: tokens are then kept in memory only (the environment's), never stored.
 */
export function lazySealer(sql: Sql, envKey: string | undefined): () => Promise<Sealer | null> {
  let pending: Promise<Sealer | null> | null = null;
  return () => {
    pending ??= (async () => {
      if (envKey) return createSealer(await importSealingKey(envKey));
      const [{ key }] = await sql`select public.zoho_vault_key() as key`;
      return typeof key === "string" && key ? createSealer(await importSealingKey(key)) : null;
    })().catch((error) => {
      pending = null;
      throw error;
    });
    return pending;
  };
}
