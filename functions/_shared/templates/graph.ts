// Template creation at Meta: POST {WHATSAPP_GRAPH_URL}/{WABA_ID}/message_templates with the
// organisation's token (Meta "Template fundamentals"), through the outbound policy (timeout, breaker;
// no retry: a create whose answer was lost would come back as "name already exists").
//
// Success is {"id", "status", "category"}. Errors are Meta's envelope {"error": {message, type, code,
// error_subcode, error_user_title, error_user_msg, error_data, fbtrace_id}}; code 100 with a 2388xxx
// subcode is a refusal of the template (reference: whatsapp.md §1.10). They become AppErrors:
//   100 / 2388024            409 META_DUPLICATE_NAME  (same name and language exist)
//   100 / other, other 4xx   422 META_REJECTED        (details: Meta's code, subcode, title, message)
//   190, 401, 403, code 10/200 (permissions)  502 META_AUTH_FAILED (the organisation's token)
//   429, 5xx, network, timeout, open breaker  503 UPSTREAM_UNAVAILABLE (retry later)
import { AppError } from "../http/errors.ts";
import { BrokenCircuitError, type OutboundPolicy, RetryableHttpError, TaskCancelledError } from "../resilience/policy.ts";

export const DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0";

/** Subcodes with what they mean (pywa's map of Meta's list, and Meta's Template management page for 2388024). */
export const META_SUBCODES: Record<number, string> = {
  2388024: "a template with this name already exists in this language",
  2388040: "a field is longer than Meta allows",
  2388047: "the header has invalid formatting",
  2388073: "the footer has invalid formatting",
  2388293: "too many variables for the length of the text",
  2388299: "variables cannot be at the start or end of the template",
  2388019: "the account has reached its maximum number of templates",
  2388046: "the name format is incorrect",
};

export interface CreatedTemplate {
  id: string;
  status: string;
  category: string | null;
}

export interface MetaErrorDetails {
  meta_code: number | null;
  meta_subcode: number | null;
  title: string | null;
  message: string | null;
  meaning: string | null;
  fbtrace_id: string | null;
}

function str(v: unknown, max = 300): string | null {
  return typeof v === "string" && v.length > 0 ? v.slice(0, max) : null;
}

/** Meta's error envelope, reduced to what may be shown and stored (no token, no raw body). */
export function metaErrorDetails(text: string): MetaErrorDetails {
  let e: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object" && parsed.error && typeof parsed.error === "object") e = parsed.error;
  } catch {
    // Not JSON: nothing to report beyond the status.
  }
  const code = typeof e.code === "number" ? e.code : null;
  const subcode = typeof e.error_subcode === "number" ? e.error_subcode : null;
  const data = e.error_data as Record<string, unknown> | undefined;
  return {
    meta_code: code,
    meta_subcode: subcode,
    title: str(e.error_user_title),
    message: str(e.error_user_msg) ?? str(data?.details) ?? str(e.message),
    meaning: subcode !== null ? META_SUBCODES[subcode] ?? null : null,
    fbtrace_id: str(e.fbtrace_id, 100),
  };
}

export function errorForMeta(status: number, d: MetaErrorDetails): AppError {
  const details = { ...d } as Record<string, unknown>;
  if (d.meta_code === 100 && d.meta_subcode === 2388024) {
    return new AppError("META_DUPLICATE_NAME", 409, "Meta already has a template with this name in this language: choose another name", {}, details);
  }
  if (status === 401 || status === 403 || d.meta_code === 190 || d.meta_code === 10 || d.meta_code === 200) {
    return new AppError("META_AUTH_FAILED", 502, "Meta refused the organisation's access token or its permissions", {}, details);
  }
  const why = d.meaning ?? d.message ?? "invalid parameter";
  return new AppError("META_REJECTED", 422, `Meta refused the template: ${why}`, {}, details);
}

export async function createTemplate(
  policy: OutboundPolicy,
  graphUrl: string,
  account: { wabaId: string; token: string },
  payload: Record<string, unknown>,
  options: { requestId?: string; signal?: AbortSignal } = {},
): Promise<CreatedTemplate> {
  const url = `${graphUrl.replace(/\/+$/, "")}/${encodeURIComponent(account.wabaId)}/message_templates`;
  let res;
  try {
    res = await policy.fetch(url, {
      method: "POST",
      headers: { authorization: `Bearer ${account.token}`, "content-type": "application/json" },
      body: JSON.stringify(payload),
    }, { requestId: options.requestId, signal: options.signal, maxResponseBytes: 64 * 1024 });
  } catch (error) {
    if (error instanceof AppError) throw error;
    const kind = error instanceof RetryableHttpError ? `answered ${error.status}`
      : error instanceof TaskCancelledError ? "timed out"
      : error instanceof BrokenCircuitError ? "is failing (circuit open)"
      : "could not be reached";
    const retryAfter = error instanceof RetryableHttpError && error.retryAfterSeconds !== null ? String(error.retryAfterSeconds) : "30";
    throw new AppError("UPSTREAM_UNAVAILABLE", 503, `Meta's Graph API ${kind}: try again later`, { "retry-after": retryAfter });
  }
  if (res.status >= 200 && res.status < 300) {
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(res.text);
    } catch {
      // handled below
    }
    const id = typeof body.id === "string" || typeof body.id === "number" ? String(body.id) : null;
    if (!id || !/^[0-9]{1,40}$/.test(id)) {
      throw new AppError("UPSTREAM_UNAVAILABLE", 503, "Meta's answer had no template id", { "retry-after": "30" });
    }
    return { id, status: typeof body.status === "string" ? body.status.toUpperCase() : "PENDING", category: str(body.category, 40) };
  }
  throw errorForMeta(res.status, metaErrorDetails(res.text));
}
