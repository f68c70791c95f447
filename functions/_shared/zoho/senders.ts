// Outbox senders for Zoho (runtime.ts registers them):
//   * 'salesiq': kind 'message' — a reply the webhook could not give in its own answer ('pending'):
//     POST {SALESIQ_API_URL}/api/v2/{screen}/callbacks/{request_id}/response (the turn's last reply,
//     as a normal bot answer: reply with suggestions, or forward to the department after a hand-over)
//     or …/progress (earlier replies of the same turn); kind 'close' — PUT …/conversations/{id}/close.
//   * 'zoho_desk': kind 'desk_call' — a callback carried out in Desk: find the contact by phone, then
//     email (204 = none), create it if missing (lastName required), then POST /api/v1/calls. The
//     contact and call ids are stored on the callback as soon as Desk gives them, so a retry never
//     makes a second call; a retry after an attempt whose outcome is unknown looks for the call in
//     Desk first (the description carries the callback's id).
// Tokens come from the Zoho client (oauth.ts), which refreshes them once on an invalid-token answer.
import type { Sql } from "../db/client.ts";
import { AppError } from "../http/errors.ts";
import type { Logger } from "../log/logger.ts";
import type { OutboxRow, Sender, SendResult } from "../outbox/dispatcher.ts";
import { BrokenCircuitError, RetryableHttpError } from "../resilience/policy.ts";
import { effectiveSettings, type ZohoConfig, type ZohoSettingsRow } from "./config.ts";
import type { ZohoClient } from "./oauth.ts";
import { ZohoAuthError } from "./oauth.ts";
import { replyResponse } from "./salesiq.ts";

/** What a thrown error means for an outbox row. Never carries a token or a body. */
export function outcomeOfError(error: unknown, prefix: string): SendResult {
  if (error instanceof RetryableHttpError) return { outcome: "retry", error: `${prefix}_http_${error.status}`, retryAfterSeconds: error.retryAfterSeconds };
  if (error instanceof BrokenCircuitError) return { outcome: "retry", error: `${prefix}_circuit_open`, retryAfterSeconds: 15 };
  if (error instanceof ZohoAuthError) {
    return error.retryable ? { outcome: "retry", error: `${prefix}_auth: ${error.code}`, retryAfterSeconds: 30 } : { outcome: "failed", error: `${prefix}_auth: ${error.code}` };
  }
  if (error instanceof AppError) return { outcome: "failed", error: `${prefix}: ${error.code}` };
  return { outcome: "retry", error: `${prefix}_unreachable: ${(error as Error)?.name ?? "error"}` };
}

function json(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" ? v : null;
  } catch {
    return null;
  }
}

/** A short, safe description of a Zoho error answer (codes only, never the body). */
function zohoError(status: number, body: Record<string, unknown> | null): string {
  const err = body?.error as Record<string, unknown> | string | undefined;
  const code = body?.errorCode ?? (typeof err === "object" ? err?.code : err) ?? "";
  return `http ${status}${code ? ` ${String(code).replace(/[^A-Za-z0-9_ .-]/g, "").slice(0, 60)}` : ""}`;
}

export function createSalesIqSender(deps: { sql: Sql; zoho: ZohoClient; logger: Logger }): Sender {
  const { sql, zoho } = deps;
  return {
    async send(row: OutboxRow, { requestId }): Promise<SendResult> {
      const [{ c }] = await sql`select public.salesiq_send_context(${row.id}::bigint) as c`;
      if (!c) return { outcome: "cancelled", error: "row_gone" };
      // Replies go out in order, and a close after them.
      if (c.earlier_pending) return { outcome: "retry", error: "waiting_for_earlier_reply", retryAfterSeconds: 2 };
      let path: string;
      let method: string;
      let body: unknown;
      if (row.kind === "close") {
        if (!row.recipient) return { outcome: "failed", error: "bad_row: no conversation id" };
        path = `conversations/${encodeURIComponent(row.recipient)}/close`;
        method = "PUT";
        body = {};
      } else if (row.kind === "message") {
        const rid = row.payload.request_id;
        if (typeof rid !== "string" || !rid) return { outcome: "failed", error: "bad_row: no SalesIQ request id to answer" };
        const text = typeof row.payload.text === "string" ? row.payload.text : "";
        const buttons = Array.isArray(row.payload.buttons) ? row.payload.buttons as Array<{ id: string; title: string }> : [];
        method = "POST";
        if (c.last) {
          path = `callbacks/${encodeURIComponent(rid)}/response`;
          body = replyResponse([text], buttons, { forward: c.action === "forward", department: null });
        } else {
          path = `callbacks/${encodeURIComponent(rid)}/progress`;
          body = { text };
        }
      } else {
        return { outcome: "failed", error: `bad_row: unknown kind ${row.kind}` };
      }
      try {
        const res = await zoho.request(row.org_id, "salesiq", (_token, s) => {
          if (!s.screenName) throw new AppError("NOT_CONFIGURED", 503, "SALESIQ_SCREEN_NAME is not set");
          if (row.kind === "message" && c.last && c.action === "forward" && s.department) {
            (body as { department?: string }).department = s.department;
          }
          return {
            url: `${s.salesiqApiUrl}/api/v2/${encodeURIComponent(s.screenName)}/${path}`,
            init: { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
          };
        }, { requestId });
        const parsed = json(res.text);
        // SalesIQ answers errors with HTTP 200 too: success has "data" or no "error".
        if (res.status >= 200 && res.status < 300 && !(parsed && parsed.error)) return { outcome: "sent", providerMessageId: null };
        const detail = `salesiq ${zohoError(res.status, parsed)}`;
        if (res.status === 429 || res.status >= 500) return { outcome: "retry", error: detail };
        return { outcome: "failed", error: detail };
      } catch (error) {
        return outcomeOfError(error, "salesiq");
      }
    },
  };
}

const SUBJECT_MAX = 300;
const DESCRIPTION_MAX = 65_535;

/** Desk's date format: yyyy-MM-ddTHH:mm:ss.SSSZ, in UTC. */
export function deskTime(iso: string): string {
  return new Date(iso).toISOString();
}

/** First and last name for a Desk contact (lastName is required): the last word is the last name. */
export function contactNames(name: string | null, phone: string): { firstName?: string; lastName: string } {
  const words = (name ?? "").trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { lastName: phone };
  if (words.length === 1) return { lastName: words[0].slice(0, 80) };
  return { firstName: words.slice(0, -1).join(" ").slice(0, 80), lastName: words[words.length - 1].slice(0, 80) };
}

export function callMarker(callbackId: string): string {
  return `Switchboard callback ${callbackId}`;
}

export function createDeskSender(deps: { sql: Sql; zoho: ZohoClient; config: ZohoConfig; logger: Logger }): Sender {
  const { sql, zoho, logger } = deps;

  async function desk(orgId: string, method: string, path: string, body: unknown, requestId?: string) {
    const res = await zoho.request(orgId, "desk", (_token, s) => {
      if (!s.deskOrgId) throw new AppError("NOT_CONFIGURED", 503, "DESK_ORG_ID is not set");
      return {
        url: `${s.deskApiUrl}/api/v1/${path}`,
        init: {
          method,
          headers: { orgId: s.deskOrgId, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        },
      };
    }, { requestId });
    return { status: res.status, body: json(res.text), settings: res.settings };
  }

  class DeskRefused extends Error {
    constructor(readonly detail: string, readonly retryable: boolean) {
      super(detail);
      this.name = "DeskRefused";
    }
  }
  const check = (what: string, r: { status: number; body: Record<string, unknown> | null }) => {
    if (r.status >= 200 && r.status < 300) return;
    throw new DeskRefused(`desk ${what}: ${zohoError(r.status, r.body)}`, r.status === 429 || r.status >= 500);
  };

  async function findContact(orgId: string, field: "phone" | "mobile" | "email", value: string, requestId?: string): Promise<string | null> {
    const r = await desk(orgId, "GET", `contacts/search?${new URLSearchParams({ [field]: value, limit: "1", from: "0" })}`, undefined, requestId);
    if (r.status === 204) return null;
    check("contact search", r);
    const first = (r.body?.data as Array<{ id?: unknown }> | undefined)?.[0];
    return first?.id !== undefined && first?.id !== null ? String(first.id) : null;
  }

  async function findCall(orgId: string, departmentId: string, contactId: string, marker: string, requestId?: string): Promise<string | null> {
    const r = await desk(orgId, "GET", `calls?${new URLSearchParams({ departmentId, from: "0", limit: "100", sortBy: "-createdTime" })}`, undefined, requestId);
    if (r.status === 204) return null;
    check("call search", r);
    for (const call of (r.body?.data as Array<Record<string, unknown>> | undefined) ?? []) {
      if (String(call.contactId ?? "") === contactId && typeof call.description === "string" && call.description.includes(marker)) {
        return String(call.id);
      }
    }
    return null;
  }

  return {
    async send(row: OutboxRow, { requestId }): Promise<SendResult> {
      if (row.kind !== "desk_call") return { outcome: "failed", error: `bad_row: unknown kind ${row.kind}` };
      const callbackId = row.payload.callback_id;
      if (typeof callbackId !== "string") return { outcome: "failed", error: "bad_row: no callback id" };
      const [{ r }] = await sql`select public.zoho_desk_callback(${callbackId}::uuid) as r`;
      if (!r) return { outcome: "cancelled", error: "callback_gone" };
      const cb = r.callback;
      if (cb.provider_ref) return { outcome: "sent", providerMessageId: `desk-call:${cb.provider_ref}` };
      if (cb.status !== "scheduled") return { outcome: "cancelled", error: `callback_${cb.status}` };
      const orgId = cb.org_id as string;
      const log = logger.child({ callback_id: callbackId, org_id: orgId });
      try {
        let contactId: string | null = cb.provider_contact_ref ?? null;
        let departmentId: string | undefined;
        if (!effectiveSettings(deps.config, r.settings as ZohoSettingsRow | null).deskDepartmentId) {
          return { outcome: "failed", error: "desk: NOT_CONFIGURED (DESK_DEPARTMENT_ID)" };
        }
        if (!contactId) {
          contactId = await findContact(orgId, "phone", cb.phone, requestId) ?? await findContact(orgId, "mobile", cb.phone, requestId);
          if (!contactId && cb.customer_email) contactId = await findContact(orgId, "email", cb.customer_email, requestId);
          if (!contactId) {
            const created = await desk(orgId, "POST", "contacts", {
              ...contactNames(cb.customer_name, cb.phone),
              phone: cb.phone,
              ...(cb.customer_email ? { email: cb.customer_email } : {}),
              description: `Created by Switchboard for a callback requested on ${cb.channel}.`,
            }, requestId);
            check("contact create", created);
            if (created.body?.id === undefined || created.body?.id === null) throw new DeskRefused("desk contact create: no id in the answer", false);
            contactId = String(created.body.id);
            log.info("desk contact created", { desk_contact_id: contactId });
          }
          await sql`select public.zoho_desk_record(${callbackId}::uuid, 'contact', ${contactId})`;
        }
        const marker = callMarker(callbackId);
        departmentId = effectiveSettings(deps.config, r.settings as ZohoSettingsRow | null).deskDepartmentId;
        if (!departmentId) return { outcome: "failed", error: "desk: NOT_CONFIGURED (DESK_DEPARTMENT_ID)" };
        if (cb.provider_attempted_at) {
          // A previous attempt may have created the call before dying: look before creating.
          const existing = await findCall(orgId, departmentId, contactId, marker, requestId);
          if (existing) {
            await sql`select public.zoho_desk_record(${callbackId}::uuid, 'created', ${existing})`;
            log.info("desk call found from an earlier attempt", { desk_call_id: existing });
            return { outcome: "sent", providerMessageId: `desk-call:${existing}` };
          }
        }
        await sql`select public.zoho_desk_record(${callbackId}::uuid, 'attempt')`;
        const description = `${cb.description}\n\n${marker}`.slice(0, DESCRIPTION_MAX);
        const call = await desk(orgId, "POST", "calls", {
          departmentId,
          contactId,
          subject: String(cb.subject).slice(0, SUBJECT_MAX),
          startTime: deskTime(cb.scheduled_for),
          direction: "outbound",
          duration: 0,
          status: "Scheduled",
          description,
        }, requestId);
        check("call create", call);
        const callId = call.body?.id;
        if (callId === undefined || callId === null) throw new DeskRefused("desk call create: no id in the answer", false);
        await sql`select public.zoho_desk_record(${callbackId}::uuid, 'created', ${String(callId)})`;
        log.info("desk call created", { desk_call_id: String(callId) });
        return { outcome: "sent", providerMessageId: `desk-call:${callId}` };
      } catch (error) {
        if (error instanceof DeskRefused) {
          if (!error.retryable) await sql`select public.zoho_desk_record(${callbackId}::uuid, 'failed', ${error.detail})`.catch(() => {});
          return error.retryable ? { outcome: "retry", error: error.detail } : { outcome: "failed", error: error.detail };
        }
        return outcomeOfError(error, "desk");
      }
    },
  };
}
