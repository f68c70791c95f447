// Zoho fixtures for tests: OAuth clients registered with the local Zoho stand-in, the environment
// that points the functions at it, an organisation's zoho_settings row, and SalesIQ requests.
import type postgres from "postgres";
import { randomBytes } from "node:crypto";
import type { ZohoStandIn } from "../../scripts/stand-ins/zoho.mjs";

export const ENCRYPTION_KEY = randomBytes(32).toString("base64");
export const SALESIQ_CLIENT = { clientId: "1000.SALESIQTEST", clientSecret: "salesiq-secret-test", refreshToken: "1000.salesiq.refresh.test" };
export const DESK_CLIENT = { clientId: "1000.DESKTEST", clientSecret: "desk-secret-test", refreshToken: "1000.desk.refresh.test" };
export const SCREEN = "pinecrest";
export const DESK_ORG = "60000000001";
export const DESK_DEPARTMENT = "70000000001";
export const SALESIQ_DEPARTMENT = "3465000000005";

/** The functions' environment for Zoho, against the stand-in. */
export function zohoEnv(zoho: ZohoStandIn, extra: Record<string, string> = {}): Record<string, string> {
  zoho.addClient(SALESIQ_CLIENT);
  zoho.addClient(DESK_CLIENT);
  return {
    ZOHO_ACCOUNTS_URL: zoho.url,
    SALESIQ_API_URL: zoho.url,
    DESK_API_URL: zoho.url,
    ZOHO_TOKEN_ENCRYPTION_KEY: ENCRYPTION_KEY,
    SALESIQ_CLIENT_ID: SALESIQ_CLIENT.clientId,
    SALESIQ_CLIENT_SECRET: SALESIQ_CLIENT.clientSecret,
    SALESIQ_REFRESH_TOKEN: SALESIQ_CLIENT.refreshToken,
    SALESIQ_SCREEN_NAME: SCREEN,
    SALESIQ_VISITOR_DEPARTMENT: SALESIQ_DEPARTMENT,
    DESK_CLIENT_ID: DESK_CLIENT.clientId,
    DESK_CLIENT_SECRET: DESK_CLIENT.clientSecret,
    DESK_REFRESH_TOKEN: DESK_CLIENT.refreshToken,
    DESK_ORG_ID: DESK_ORG,
    DESK_DEPARTMENT_ID: DESK_DEPARTMENT,
    ...extra,
  };
}

let counter = 0;
/** Turns SalesIQ and Desk on for an organisation; returns its webhook key. */
export async function enableZoho(sql: postgres.Sql, orgId: string, options: { desk?: boolean; publicKey?: string; salesiqOrgId?: string } = {}) {
  counter += 1;
  const key = `siq-${process.pid}-${counter}-${randomBytes(4).toString("hex")}`;
  await sql`
    insert into public.zoho_settings (org_id, webhook_key, desk_enabled, salesiq_public_key, salesiq_org_id)
    values (${orgId}, ${key}, ${options.desk ?? true}, ${options.publicKey ?? null}, ${options.salesiqOrgId ?? null})`;
  return key;
}

let requestCounter = 0;
/** A Zobot webhook request body. */
export function salesiqMessage(conversationId: string, text: string, options: { requestId?: string; handler?: string; visitor?: Record<string, unknown> } = {}) {
  requestCounter += 1;
  return {
    handler: options.handler ?? "message",
    operation: "message",
    org_id: "60012345",
    message: { text },
    request: { id: options.requestId ?? `req-${Date.now()}-${requestCounter}-${randomBytes(3).toString("hex")}` },
    visitor: {
      name: "Jane Cooper",
      email: "jane@example.com",
      active_conversation_id: conversationId,
      time_zone: "America/Toronto",
      channel: "Website",
      ...(options.visitor ?? {}),
    },
    attachments: [],
  };
}

export function newConversationId(): string {
  return `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
}
