// The Zobot "Webhook" platform's protocol (zoho.com/salesiq/help/developer-section/
// zobot-webhook-request-response-format.html, responses-actions.html): what SalesIQ POSTs, how it
// signs it, and the JSON the bot answers with.
//
// Request: {"handler": "trigger" | "message" | "context", "org_id", "visitor": {...,
// "active_conversation_id"}, "message": {"text"}, "operation", "request": {"id"}, "answers", ...}.
// Answer: {"action": "reply" | "forward" | "end" | "pending", "replies": [...], "suggestions"?: [...],
// "department"?: "..."}. Suggestions come back as the visitor's message text: the bot's button
// titles are mapped back to button ids here.
import { z } from "zod";
import { AppError } from "../http/errors.ts";
import { LANGUAGES } from "../chat/brain/language.ts";
import { AGENT_MODE, CALLBACK_USE_THIS_NUMBER, CANCEL_CALLBACK, SCHEDULE_CALLBACK } from "../chat/buttons.ts";
import type { Button } from "../chat/types.ts";
import { decodeBase64, type OwnBytes } from "../signatures/encoding.ts";

export const SIGNATURE_HEADER = "x-siqsignature";
const MAX_TEXT = 4000;

const text = z.string().max(100_000);
const id = z.union([z.string().max(200), z.number()]).transform((v) => String(v));

const visitorSchema = z.object({
  name: text.optional().nullable(),
  email: text.optional().nullable(),
  phone: text.optional().nullable(),
  id: id.optional().nullable(),
  active_conversation_id: id.optional().nullable(),
  time_zone: text.optional().nullable(),
  channel: text.optional().nullable(),
}).passthrough();

const eventSchema = z.object({
  handler: z.string().max(40),
  org_id: id.optional().nullable(),
  operation: z.string().max(40).optional().nullable(),
  visitor: visitorSchema.optional().nullable(),
  message: z.object({ text: text.optional().nullable() }).passthrough().optional().nullable(),
  request: z.object({ id: id.optional().nullable() }).passthrough().optional().nullable(),
  context_id: id.optional().nullable(),
  answers: z.record(z.string(), z.unknown()).optional().nullable(),
  conversation: z.object({ id: id.optional().nullable() }).passthrough().optional().nullable(),
  chat: z.object({ id: id.optional().nullable() }).passthrough().optional().nullable(),
}).passthrough();

export interface SalesIqEvent {
  handler: "trigger" | "message" | "context";
  salesiqOrgId: string | null;
  conversationId: string | null;
  requestId: string | null;
  text: string;
  button: string | null;
  visitor: { name: string | null; email: string | null; phone: string | null; id: string | null; timeZone: string | null };
}

const BUTTON_IDS: Array<[keyof typeof LANGUAGES.en.lines.buttons, string]> = [
  ["agent", AGENT_MODE],
  ["callback", SCHEDULE_CALLBACK],
  ["use_this_number", CALLBACK_USE_THIS_NUMBER],
  ["cancel", CANCEL_CALLBACK],
];

/** A visitor's message that is exactly one of the bot's button titles (any language) is that button. */
export function buttonForText(value: string): string | null {
  const t = value.trim().toLowerCase();
  if (!t) return null;
  for (const pack of Object.values(LANGUAGES)) {
    for (const [key, buttonId] of BUTTON_IDS) {
      if (pack.lines.buttons[key].toLowerCase() === t) return buttonId;
    }
  }
  const upper = value.trim();
  return [AGENT_MODE, SCHEDULE_CALLBACK, CALLBACK_USE_THIS_NUMBER, CANCEL_CALLBACK].includes(upper) ? upper : null;
}

function clean(v: string | null | undefined, max: number): string | null {
  if (typeof v !== "string") return null;
  const t = v.trim();
  return t ? t.slice(0, max) : null;
}

/** Reads a webhook body; anything that is not one of the three handlers is INVALID_EVENT (422). */
export function parseSalesIqEvent(payload: unknown): SalesIqEvent {
  const parsed = eventSchema.safeParse(payload);
  if (!parsed.success) throw new AppError("INVALID_EVENT", 422, "Not a SalesIQ Zobot webhook request");
  const e = parsed.data;
  if (e.handler !== "trigger" && e.handler !== "message" && e.handler !== "context") {
    throw new AppError("INVALID_EVENT", 422, "handler must be trigger, message or context");
  }
  let body = clean(e.message?.text, MAX_TEXT) ?? "";
  if (e.handler === "context" && e.answers) {
    // A context's collected answers: {"name": {"text": "..."}, ...} or plain values.
    body = Object.values(e.answers)
      .map((a) => (typeof a === "string" ? a : typeof (a as { text?: unknown })?.text === "string" ? (a as { text: string }).text : ""))
      .filter(Boolean).join("\n").slice(0, MAX_TEXT);
  }
  const v = e.visitor ?? {};
  return {
    handler: e.handler,
    salesiqOrgId: e.org_id ?? null,
    conversationId: clean(v.active_conversation_id ?? e.conversation?.id ?? e.chat?.id ?? null, 200),
    requestId: clean(e.request?.id ?? null, 200),
    text: body,
    button: e.handler === "message" ? buttonForText(body) : null,
    visitor: {
      name: clean(v.name, 200),
      email: clean(v.email, 320),
      phone: clean(v.phone, 40),
      id: clean(v.id, 200),
      timeZone: clean(v.time_zone, 64),
    },
  };
}

/** The JSON the bot answers with (or sends later through the callbacks API). */
export interface SalesIqResponse {
  action: "reply" | "forward" | "end" | "pending";
  replies: string[];
  suggestions?: string[];
  department?: string;
}

export function replyResponse(texts: string[], buttons: Button[], options: { forward?: boolean; department?: string | null } = {}): SalesIqResponse {
  const replies = texts.map((t) => t.slice(0, MAX_TEXT)).filter((t) => t.length > 0);
  if (options.forward) {
    return { action: "forward", replies, ...(options.department ? { department: options.department } : {}) };
  }
  const suggestions = buttons.map((b) => b.title).filter(Boolean).slice(0, 20);
  return { action: "reply", replies, ...(suggestions.length ? { suggestions } : {}) };
}

// ------------------------------------------------------------------------------------------------
// x-siqsignature: SHA256withRSA (PKCS#1 v1.5) over the raw body, Base64, with the public key(s)
// SalesIQ generated for the webhook (two during a key rotation: any may match).
// ------------------------------------------------------------------------------------------------
const keyCache = new Map<string, Promise<CryptoKey[]>>();

function spkiBlocks(text: string): OwnBytes[] {
  const pem = [...text.matchAll(/-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/g)].map((m) => m[1]);
  const blocks = pem.length ? pem : text.split(/[\s,]+/).filter(Boolean);
  return blocks.map((b) => decodeBase64(b.replace(/\s+/g, ""))).filter((b): b is OwnBytes => b !== null);
}

export function importSalesIqKeys(text: string): Promise<CryptoKey[]> {
  let found = keyCache.get(text);
  if (!found) {
    found = (async () => {
      const keys: CryptoKey[] = [];
      for (const der of spkiBlocks(text)) {
        try {
          keys.push(await crypto.subtle.importKey("spki", der, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]));
        } catch { /* not a usable RSA key: skipped */ }
      }
      if (!keys.length) throw new AppError("NOT_CONFIGURED", 503, "The SalesIQ public key is not a usable RSA public key");
      return keys;
    })();
    found.catch(() => keyCache.delete(text));
    keyCache.set(text, found);
  }
  return found;
}

/** Throws 401 SIGNATURE_MISSING / SIGNATURE_INVALID unless one of the keys signed `raw`. */
export async function verifySalesIqSignature(publicKeys: string, headers: Headers, raw: Uint8Array): Promise<void> {
  const header = headers.get(SIGNATURE_HEADER)?.trim();
  if (!header) throw new AppError("SIGNATURE_MISSING", 401, `${SIGNATURE_HEADER} is required`);
  const signature = decodeBase64(header);
  if (!signature || signature.length < 64 || signature.length > 1024) throw new AppError("SIGNATURE_INVALID", 401, "Signature does not verify");
  for (const key of await importSalesIqKeys(publicKeys)) {
    if (await crypto.subtle.verify({ name: "RSASSA-PKCS1-v1_5" }, key, signature, raw as BufferSource)) return;
  }
  throw new AppError("SIGNATURE_INVALID", 401, "Signature does not verify");
}

