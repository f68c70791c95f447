// Meta's template review, as webhook events: `message_template_status_update` changes (Meta's webhook
// reference; ../shared/reference/zoho-knowledge-dashboard-templates.md §5) move the submission with
// that template id to the event's status (APPROVED, REJECTED with its reason, PAUSED, ...).
//
// applyTemplateStatusUpdate(sql, value, {wabaId}) is what any webhook receiver calls for a change
// with field "message_template_status_update": the whatsapp-webhook function and this builder's own
// POST template-builder/webhook route. Replays are harmless (the event log is unique per change).
import { z } from "zod";
import type { Sql } from "../db/client.ts";
import { AppError } from "../http/errors.ts";

export const TEMPLATE_STATUS_FIELD = "message_template_status_update";

/** The change value; `reason` is an open, nullable string, the template id an integer or a string. */
export const TemplateStatusValueSchema = z.object({
  event: z.string().min(1).max(40),
  message_template_id: z.union([z.number().int().nonnegative(), z.string().regex(/^[0-9]{1,40}$/)]),
  message_template_name: z.string().max(512).optional(),
  message_template_language: z.string().max(20).optional(),
  message_template_category: z.string().max(40).optional(),
  reason: z.string().max(200).nullable().optional(),
}).passthrough();

export type TemplateStatusValue = z.infer<typeof TemplateStatusValueSchema>;

export interface StatusUpdateResult {
  matched: boolean;
  duplicate: boolean;
  submission_id: string | null;
  org_id: string | null;
  status: string | null;
}

/**
 * Applies one change value. `wabaId` is the entry's id (the WhatsApp Business Account that sent it):
 * only that account's submissions move. Throws AppError 422 INVALID_EVENT for a malformed value.
 */
export async function applyTemplateStatusUpdate(
  sql: Sql,
  value: unknown,
  options: { wabaId?: string | null; now?: Date } = {},
): Promise<StatusUpdateResult> {
  const parsed = TemplateStatusValueSchema.safeParse(value);
  if (!parsed.success) throw new AppError("INVALID_EVENT", 422, "Not a message_template_status_update value");
  // Meta sends the id as a JSON integer; read back as text it must keep every digit.
  const v = { ...parsed.data, message_template_id: String(parsed.data.message_template_id) };
  const [row] = await sql<{ r: StatusUpdateResult }[]>`
    select public.apply_template_status_update(${options.wabaId ?? null}, ${sql.json(v as never)}::jsonb,
      ${options.now ?? new Date()}) as r`;
  return row.r;
}

const EnvelopeSchema = z.object({
  object: z.string(),
  entry: z.array(z.object({
    id: z.string().optional(),
    changes: z.array(z.object({ field: z.string(), value: z.unknown() }).passthrough()).default([]),
  }).passthrough()).max(1000),
});

/** The template status changes of a webhook body: [{wabaId, value}]; other fields are skipped. */
export function templateStatusChanges(body: unknown): { wabaId: string | null; value: unknown }[] {
  const parsed = EnvelopeSchema.safeParse(body);
  if (!parsed.success || parsed.data.object !== "whatsapp_business_account") {
    throw new AppError("INVALID_EVENT", 422, "Not a WhatsApp Business Account webhook");
  }
  const out: { wabaId: string | null; value: unknown }[] = [];
  for (const entry of parsed.data.entry) {
    for (const change of entry.changes) {
      if (change.field === TEMPLATE_STATUS_FIELD) out.push({ wabaId: entry.id ?? null, value: change.value });
    }
  }
  return out;
}

/**
 * The whatsapp-webhook function's hook (WhatsAppWebhookDeps.onTemplateStatus): applies each
 * message_template_status_update value it received and returns how many were new. The webhook does not
 * pass the entry's WABA id, so any submission with that Meta template id moves (Meta's ids are global,
 * and the request's signature already proved it came from Meta). Malformed values are logged and
 * skipped: Meta would otherwise retry the whole delivery for days.
 */
export async function applyTemplateStatusValues(
  sql: Sql,
  values: Array<Record<string, unknown>>,
  logger?: { warn(msg: string, fields?: Record<string, unknown>): void },
): Promise<number> {
  let applied = 0;
  for (const value of values) {
    try {
      const r = await applyTemplateStatusUpdate(sql, value);
      if (!r.duplicate) applied++;
    } catch (error) {
      if (error instanceof AppError && error.code === "INVALID_EVENT") logger?.warn("template status update skipped: malformed value");
      else throw error;
    }
  }
  return applied;
}
