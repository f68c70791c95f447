// Chat fixtures and clients for tests: an organisation with a web-chat site and a WhatsApp number,
// a web-chat client speaking the public API, and Meta-signed WhatsApp events.
import type postgres from "postgres";
import { createOrgWithNumber } from "./fixtures.ts";
import { signMeta } from "../../functions/_shared/signatures/meta.ts";

export const SERVICE_KEY = "test-service-role-key-0123456789abcdef";
export const APP_SECRET = "test-whatsapp-app-secret";
export const VERIFY_TOKEN = "test-verify-token";
export const WA_TOKEN = "test-whatsapp-access-token";

export interface ChatOrg {
  orgId: string;
  siteKey: string;
  phoneNumberId: string;
}

let counter = 0;

export async function createChatOrg(
  sql: postgres.Sql,
  options: { name?: string; timezone?: string; businessHours?: Record<string, unknown>; variables?: Record<string, unknown> } = {},
): Promise<ChatOrg> {
  counter += 1;
  const suffix = `${process.pid}${counter}`.slice(-6).padStart(6, "0");
  const { orgId } = await createOrgWithNumber(sql, {
    name: options.name ?? "Pinecrest Home Services",
    number: `+1416555${suffix.slice(-4)}`,
    timezone: options.timezone ?? "America/Toronto",
    businessHours: options.businessHours ?? { mon: [["08:00", "18:00"]], tue: [["08:00", "18:00"]], wed: [["08:00", "18:00"]], thu: [["08:00", "18:00"]], fri: [["08:00", "17:00"]] },
    variables: options.variables ?? { service_area: "Toronto and the GTA", diagnostic_fee: "$89" },
  });
  const siteKey = `site-${suffix}-${counter}`;
  const phoneNumberId = `1000${suffix}${String(counter).padStart(4, "0")}`;
  await sql`insert into public.chat_sites (org_id, site_key) values (${orgId}, ${siteKey})`;
  await sql`insert into public.whatsapp_numbers (org_id, phone_number_id) values (${orgId}, ${phoneNumberId})`;
  return { orgId, siteKey, phoneNumberId };
}

export interface ChatReply {
  status: number;
  json: any;
  headers: Headers;
}

async function call(url: string, init: RequestInit): Promise<ChatReply> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, headers: res.headers };
}

export function webChat(base: string) {
  return {
    start(body: Record<string, unknown>) {
      return call(`${base}/chat/sessions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    },
    send(sessionId: string, token: string | null, body: Record<string, unknown>) {
      return call(`${base}/chat/sessions/${sessionId}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    },
    history(sessionId: string, token: string | null) {
      return call(`${base}/chat/sessions/${sessionId}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    },
    debug(sessionId: string, key: string | null) {
      return call(`${base}/chat/sessions/${sessionId}/debug`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    },
    sweep(key: string) {
      return call(`${base}/chat/sweep`, { method: "POST", headers: { authorization: `Bearer ${key}` } });
    },
  };
}

/** A WhatsApp Cloud API webhook body with the given messages for one business number. */
export function whatsappEvent(phoneNumberId: string, messages: Array<Record<string, unknown>>, options: { name?: string; statuses?: unknown[] } = {}) {
  const from = (messages[0]?.from as string | undefined) ?? "14165550199";
  return {
    object: "whatsapp_business_account",
    entry: [{
      id: "102290129340398",
      changes: [{
        field: "messages",
        value: {
          messaging_product: "whatsapp",
          metadata: { display_phone_number: "14165550100", phone_number_id: phoneNumberId },
          contacts: [{ profile: { name: options.name ?? "Jane Cooper" }, wa_id: from }],
          ...(messages.length ? { messages } : {}),
          ...(options.statuses ? { statuses: options.statuses } : {}),
        },
      }],
    }],
  };
}

let wamidCounter = 0;
export function textMessage(text: string, from = "14165550199", id?: string) {
  wamidCounter += 1;
  return {
    from,
    id: id ?? `wamid.TEST${Date.now()}${wamidCounter}${Math.random().toString(36).slice(2, 8)}`,
    timestamp: String(Math.floor(Date.now() / 1000)),
    type: "text",
    text: { body: text },
  };
}

export function buttonReply(buttonId: string, title: string, from = "14165550199") {
  wamidCounter += 1;
  return {
    from,
    id: `wamid.BTN${Date.now()}${wamidCounter}`,
    timestamp: String(Math.floor(Date.now() / 1000)),
    type: "interactive",
    interactive: { type: "button_reply", button_reply: { id: buttonId, title } },
    context: { from: "14165550100", id: "wamid.PREVIOUS" },
  };
}

export async function postWhatsApp(url: string, payload: unknown, options: { secret?: string | null; rawBody?: string } = {}) {
  const body = options.rawBody ?? JSON.stringify(payload);
  const headers: Record<string, string> = { "content-type": "application/json" };
  const secret = options.secret === undefined ? APP_SECRET : options.secret;
  if (secret) headers["x-hub-signature-256"] = await signMeta(secret, body);
  return call(url, { method: "POST", headers, body });
}
