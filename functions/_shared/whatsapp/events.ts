// WhatsApp Cloud API webhook payloads (object "whatsapp_business_account") into what the pipeline
// stores: inbound customer messages per business number, delivery statuses, and template status
// changes. Meta batches up to 1000 updates in one POST, over entry[] and changes[]; every element is
// read, and anything unexpected is skipped (counted), never thrown.
//
// Message types read: text; interactive button_reply / list_reply (the tapped id becomes the
// message's button, its title the text); template quick-reply `button` (payload → button). Other
// types (image, location, ...) are stored as "[image]" etc. so that the conversation shows them and
// the bot offers a person.
import { z } from "zod";

export interface InboundMessage {
  wamid: string;
  /** The customer's WhatsApp id (digits), as Meta sends it. */
  from: string;
  name: string | null;
  body: string;
  timestamp: string | null;
  metadata: Record<string, unknown>;
}

export interface DeliveryStatus {
  id: string;
  status: string;
  error: string | null;
}

export interface ParsedEvent {
  /** Inbound messages grouped by the business number they were sent to. */
  messages: Map<string, InboundMessage[]>;
  statuses: DeliveryStatus[];
  /** message_template_status_update values, as Meta sent them. */
  templateUpdates: Array<Record<string, unknown>>;
  skipped: number;
}

const MAX_BODY_CHARS = 4096;

const text = z.string().max(100_000);
const messageSchema = z.object({
  from: z.string().regex(/^[0-9]{5,20}$/),
  id: z.string().min(1).max(512),
  timestamp: z.string().max(20).optional(),
  type: z.string().max(64),
  text: z.object({ body: text }).partial().optional(),
  interactive: z.object({
    type: z.string().optional(),
    button_reply: z.object({ id: text, title: text.optional() }).optional(),
    list_reply: z.object({ id: text, title: text.optional(), description: text.optional() }).optional(),
  }).optional(),
  button: z.object({ payload: text.optional(), text: text.optional() }).optional(),
  context: z.object({ id: z.string().optional(), from: z.string().optional() }).partial().optional(),
}).passthrough();

const statusSchema = z.object({
  id: z.string().min(1).max(512),
  status: z.string().max(32),
  errors: z.array(z.object({ code: z.number().optional(), title: z.string().optional(), message: z.string().optional() }).passthrough()).optional(),
}).passthrough();

function clip(value: string): string {
  return value.length > MAX_BODY_CHARS ? value.slice(0, MAX_BODY_CHARS) : value;
}

function toInbound(raw: z.infer<typeof messageSchema>, name: string | null): InboundMessage {
  const base = { wamid: raw.id, from: raw.from, name, timestamp: raw.timestamp ?? null };
  const meta: Record<string, unknown> = { type: raw.type };
  if (raw.context?.id) meta.context_id = raw.context.id;
  if (raw.type === "text") return { ...base, body: clip(raw.text?.body ?? ""), metadata: meta };
  if (raw.type === "interactive") {
    const reply = raw.interactive?.button_reply ?? raw.interactive?.list_reply;
    if (reply) {
      return { ...base, body: clip(reply.title ?? reply.id), metadata: { ...meta, button: reply.id.slice(0, 256) } };
    }
  }
  if (raw.type === "button" && raw.button) {
    const payload = raw.button.payload ?? raw.button.text ?? "";
    return { ...base, body: clip(raw.button.text ?? payload), metadata: { ...meta, button: payload.slice(0, 256) } };
  }
  return { ...base, body: `[${raw.type}]`, metadata: { ...meta, unsupported: true } };
}

export function parseWebhookEvent(payload: unknown): ParsedEvent {
  const out: ParsedEvent = { messages: new Map(), statuses: [], templateUpdates: [], skipped: 0 };
  const root = payload as { object?: unknown; entry?: unknown };
  if (!root || typeof root !== "object" || !Array.isArray(root.entry)) return out;
  for (const entry of root.entry.slice(0, 1000)) {
    const changes = (entry as { changes?: unknown })?.changes;
    if (!Array.isArray(changes)) {
      out.skipped += 1;
      continue;
    }
    for (const change of changes.slice(0, 1000)) {
      const field = (change as { field?: unknown })?.field;
      const value = (change as { value?: unknown })?.value as Record<string, unknown> | undefined;
      if (!value || typeof value !== "object") {
        out.skipped += 1;
        continue;
      }
      if (field === "message_template_status_update") {
        out.templateUpdates.push(value);
        continue;
      }
      if (field !== "messages") {
        out.skipped += 1;
        continue;
      }
      const numberId = (value.metadata as { phone_number_id?: unknown } | undefined)?.phone_number_id;
      const contacts = Array.isArray(value.contacts) ? value.contacts : [];
      const names = new Map<string, string>();
      for (const c of contacts) {
        const waId = (c as { wa_id?: unknown })?.wa_id;
        const name = (c as { profile?: { name?: unknown } })?.profile?.name;
        if (typeof waId === "string" && typeof name === "string") names.set(waId, name.slice(0, 200));
      }
      for (const raw of Array.isArray(value.messages) ? value.messages : []) {
        const parsed = messageSchema.safeParse(raw);
        if (!parsed.success || typeof numberId !== "string" || !/^[0-9]{5,32}$/.test(numberId)) {
          out.skipped += 1;
          continue;
        }
        const list = out.messages.get(numberId) ?? [];
        list.push(toInbound(parsed.data, names.get(parsed.data.from) ?? null));
        out.messages.set(numberId, list);
      }
      for (const raw of Array.isArray(value.statuses) ? value.statuses : []) {
        const parsed = statusSchema.safeParse(raw);
        if (!parsed.success) {
          out.skipped += 1;
          continue;
        }
        const e = parsed.data.errors?.[0];
        out.statuses.push({
          id: parsed.data.id,
          status: parsed.data.status,
          error: e ? `${e.code ?? ""} ${e.title ?? e.message ?? ""}`.trim().slice(0, 300) : null,
        });
      }
    }
  }
  return out;
}
