// Sends outbox rows of channel 'whatsapp' through the Graph API:
//   POST {WHATSAPP_GRAPH_URL}/{phone_number_id}/messages   (Bearer: the number's token, else WHATSAPP_ACCESS_TOKEN)
// as text, or as interactive reply buttons (at most 3, titles at most 20 characters, body at most
// 1024) when the reply has buttons. Only inside the 24-hour customer-service window: outside it the
// number's configured template is sent instead ({{1}} = the text), or, with none, the row is
// cancelled with a clear reason (the message stays in the conversation as a note).
// HTTP goes through the outbound policy (per-attempt timeout, retries on 429/5xx/network with
// jitter, a breaker); what the policy gives up on goes back to the outbox for a later retry.
import { AppError } from "../http/errors.ts";
import type { Logger } from "../log/logger.ts";
import type { OutboxRow, Sender, SendResult } from "../outbox/dispatcher.ts";
import { BrokenCircuitError, createOutboundPolicy, RetryableHttpError } from "../resilience/policy.ts";

export const DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0";
const TEXT_MAX = 4096;
const INTERACTIVE_BODY_MAX = 1024;
const BUTTON_TITLE_MAX = 20;

export interface WhatsAppSenderOptions {
  graphUrl: string;
  /** WHATSAPP_ACCESS_TOKEN: used for numbers without their own token. */
  accessToken?: string;
  logger: Logger;
  timeoutMs?: number;
}

interface Button {
  id: string;
  title: string;
}

/** The Graph API request body for a reply. Exported for tests and the local stand-in. */
export function messageBody(to: string, text: string, buttons: Button[]): Record<string, unknown> {
  const recipient = to.startsWith("+") ? to : `+${to}`;
  const usable = buttons.filter((b) => b.id && b.title).slice(0, 3);
  if (usable.length > 0) {
    return {
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: recipient,
      type: "interactive",
      interactive: {
        type: "button",
        body: { text: [...text].slice(0, INTERACTIVE_BODY_MAX).join("") },
        action: {
          buttons: usable.map((b) => ({
            type: "reply",
            reply: { id: b.id.slice(0, 256), title: [...b.title].slice(0, BUTTON_TITLE_MAX).join("") },
          })),
        },
      },
    };
  }
  return {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: recipient,
    type: "text",
    text: { preview_url: false, body: [...text].slice(0, TEXT_MAX).join("") },
  };
}

function templateBody(to: string, template: { name: string; language: string }, text: string) {
  return {
    messaging_product: "whatsapp",
    recipient_type: "individual",
    to: to.startsWith("+") ? to : `+${to}`,
    type: "template",
    template: {
      name: template.name,
      language: { code: template.language },
      components: [{ type: "body", parameters: [{ type: "text", text: text.slice(0, 1024) }] }],
    },
  };
}

/** Graph errors a retry cannot fix, by code. Anything else 4xx is also final; 429/5xx are retried. */
const OUTSIDE_WINDOW = 131047;

export function createWhatsAppSender(options: WhatsAppSenderOptions): Sender {
  const base = options.graphUrl.replace(/\/+$/, "");
  const policy = createOutboundPolicy({
    name: "whatsapp-graph",
    timeoutMs: options.timeoutMs ?? 5000,
    maxAttempts: 2,
    logger: options.logger,
  });

  async function post(url: string, token: string, body: unknown, requestId?: string): Promise<SendResult> {
    let res;
    try {
      res = await policy.fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }, { requestId, maxResponseBytes: 64 * 1024 });
    } catch (error) {
      if (error instanceof RetryableHttpError) {
        return { outcome: "retry", error: `graph_http_${error.status}`, retryAfterSeconds: error.retryAfterSeconds };
      }
      if (error instanceof BrokenCircuitError) return { outcome: "retry", error: "graph_circuit_open", retryAfterSeconds: 10 };
      if (error instanceof AppError) return { outcome: "retry", error: error.code };
      return { outcome: "retry", error: "graph_unreachable" };
    }
    let json: Record<string, unknown> | null = null;
    try {
      json = JSON.parse(res.text);
    } catch {
      json = null;
    }
    if (res.status >= 200 && res.status < 300) {
      const id = (json?.messages as Array<{ id?: unknown }> | undefined)?.[0]?.id;
      return { outcome: "sent", providerMessageId: typeof id === "string" ? id : null };
    }
    const err = (json?.error ?? {}) as { code?: unknown; message?: unknown; error_subcode?: unknown };
    const code = typeof err.code === "number" ? err.code : null;
    const detail = `graph_error ${res.status}${code !== null ? ` code ${code}` : ""}${typeof err.message === "string" ? `: ${err.message.slice(0, 200)}` : ""}`;
    if (code === OUTSIDE_WINDOW) return { outcome: "cancelled", error: `outside_customer_service_window (${detail})` };
    return { outcome: "failed", error: detail };
  }

  return {
    async send(row: OutboxRow, { requestId }): Promise<SendResult> {
      const phoneNumberId = row.payload.phone_number_id;
      if (typeof phoneNumberId !== "string" || !/^[0-9]{5,32}$/.test(phoneNumberId) || !row.recipient) {
        return { outcome: "failed", error: "bad_row: phone_number_id or recipient missing" };
      }
      const token = (row.credentials?.access_token as string | null | undefined) || options.accessToken;
      if (!token) return { outcome: "failed", error: "NOT_CONFIGURED: no WhatsApp access token for this number" };
      const text = typeof row.payload.text === "string" ? row.payload.text : "";
      const buttons = Array.isArray(row.payload.buttons) ? (row.payload.buttons as Button[]) : [];
      const url = `${base}/${phoneNumberId}/messages`;
      if (!row.window_open) {
        const template = row.credentials?.outside_window_template as { name: string; language: string } | null | undefined;
        if (!template) {
          return { outcome: "cancelled", error: "outside_customer_service_window: no template configured for this number" };
        }
        return await post(url, token, templateBody(row.recipient, template, text), requestId);
      }
      return await post(url, token, messageBody(row.recipient, text, buttons), requestId);
    },
  };
}
