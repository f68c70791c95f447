// Zoho settings from the environment (README, "Zoho SalesIQ and Desk"): the names the replaced
// system used (SALESIQ_*, DESK_*), kept so that its users can move over, and the base URLs of the
// organisation's data centre. They are the single-organisation default: a zoho_settings row (or a
// zoho_credentials row) of an organisation overrides them column by column.
import { z } from "zod";
import { type Env, envInt, parseEnv } from "../config/env.ts";

const optionalText = z.string().optional().transform((v) => (v && v.trim() ? v.trim() : undefined));
const url = (fallback: string) =>
  optionalText.transform((v) => (v ?? fallback).replace(/\/+$/, ""))
    .refine((v) => /^https?:\/\/[^\s]+$/.test(v), "must be an http(s) URL");

/** Zoho's data centres (zoho.com/accounts/protocol/oauth/multi-dc.html): accounts, SalesIQ and Desk servers. */
export const DATA_CENTRES: Record<string, { accounts: string; salesiq: string; desk: string }> = {
  us: { accounts: "https://accounts.zoho.com", salesiq: "https://salesiq.zoho.com", desk: "https://desk.zoho.com" },
  eu: { accounts: "https://accounts.zoho.eu", salesiq: "https://salesiq.zoho.eu", desk: "https://desk.zoho.eu" },
  in: { accounts: "https://accounts.zoho.in", salesiq: "https://salesiq.zoho.in", desk: "https://desk.zoho.in" },
  au: { accounts: "https://accounts.zoho.com.au", salesiq: "https://salesiq.zoho.com.au", desk: "https://desk.zoho.com.au" },
  jp: { accounts: "https://accounts.zoho.jp", salesiq: "https://salesiq.zoho.jp", desk: "https://desk.zoho.jp" },
  ca: { accounts: "https://accounts.zohocloud.ca", salesiq: "https://salesiq.zohocloud.ca", desk: "https://desk.zohocloud.ca" },
  sa: { accounts: "https://accounts.zoho.sa", salesiq: "https://salesiq.zoho.sa", desk: "https://desk.zoho.sa" },
  cn: { accounts: "https://accounts.zoho.com.cn", salesiq: "https://salesiq.zoho.com.cn", desk: "https://desk.zoho.com.cn" },
};

const schema = z.object({
  ZOHO_DATA_CENTRE: z.enum(Object.keys(DATA_CENTRES) as [string, ...string[]]).optional().default("us"),
  ZOHO_ACCOUNTS_URL: optionalText,
  SALESIQ_API_URL: optionalText,
  DESK_API_URL: optionalText,
  SALESIQ_ACCESS_TOKEN: optionalText,
  SALESIQ_REFRESH_TOKEN: optionalText,
  SALESIQ_CLIENT_ID: optionalText,
  SALESIQ_CLIENT_SECRET: optionalText,
  /** Kept for the replaced system's users; the Zobot webhook does not need it. */
  SALESIQ_VISITOR_APP_ID: optionalText,
  SALESIQ_VISITOR_DEPARTMENT: optionalText,
  SALESIQ_SCREEN_NAME: optionalText,
  SALESIQ_WEBHOOK_PUBLIC_KEY: optionalText,
  /** How long the webhook waits for the bot before answering `pending` (SalesIQ waits about 5 s). */
  SALESIQ_REPLY_BUDGET_MS: envInt(4000, 100, 9000),
  DESK_ORG_ID: optionalText,
  DESK_DEPARTMENT_ID: optionalText,
  DESK_ACCESS_TOKEN: optionalText,
  DESK_REFRESH_TOKEN: optionalText,
  DESK_CLIENT_ID: optionalText,
  DESK_CLIENT_SECRET: optionalText,
  /** Base64 of 32 random bytes: seals tokens stored in the database (else Vault's switchboard_zoho_token_key). */
  ZOHO_TOKEN_ENCRYPTION_KEY: optionalText.refine((v) => v === undefined || /^[A-Za-z0-9+/_-]{42,44}={0,2}$/.test(v),
    "must be the Base64 of 32 bytes (openssl rand -base64 32)"),
  ZOHO_HTTP_TIMEOUT_MS: envInt(8000, 100, 60_000),
});

type Raw = z.infer<typeof schema>;

export interface ProductCredentials {
  accessToken?: string;
  refreshToken?: string;
  clientId?: string;
  clientSecret?: string;
}

export interface ZohoConfig {
  accountsUrl: string;
  salesiqApiUrl: string;
  deskApiUrl: string;
  salesiq: ProductCredentials & { screenName?: string; department?: string; publicKey?: string; visitorAppId?: string };
  desk: ProductCredentials & { orgId?: string; departmentId?: string };
  replyBudgetMs: number;
  encryptionKey?: string;
  httpTimeoutMs: number;
}

export type ZohoProduct = "salesiq" | "desk";

export function parseZohoConfig(env: Env): ZohoConfig {
  const raw: Raw = parseEnv(schema, env);
  const dc = DATA_CENTRES[raw.ZOHO_DATA_CENTRE];
  const base = (value: string | undefined, fallback: string, name: string) =>
    parseEnv(z.object({ [name]: url(fallback) }), { [name]: value })[name] as string;
  return {
    accountsUrl: base(raw.ZOHO_ACCOUNTS_URL, dc.accounts, "ZOHO_ACCOUNTS_URL"),
    salesiqApiUrl: base(raw.SALESIQ_API_URL, dc.salesiq, "SALESIQ_API_URL"),
    deskApiUrl: base(raw.DESK_API_URL, dc.desk, "DESK_API_URL"),
    salesiq: {
      accessToken: raw.SALESIQ_ACCESS_TOKEN,
      refreshToken: raw.SALESIQ_REFRESH_TOKEN,
      clientId: raw.SALESIQ_CLIENT_ID,
      clientSecret: raw.SALESIQ_CLIENT_SECRET,
      screenName: raw.SALESIQ_SCREEN_NAME,
      department: raw.SALESIQ_VISITOR_DEPARTMENT,
      publicKey: raw.SALESIQ_WEBHOOK_PUBLIC_KEY,
      visitorAppId: raw.SALESIQ_VISITOR_APP_ID,
    },
    desk: {
      accessToken: raw.DESK_ACCESS_TOKEN,
      refreshToken: raw.DESK_REFRESH_TOKEN,
      clientId: raw.DESK_CLIENT_ID,
      clientSecret: raw.DESK_CLIENT_SECRET,
      orgId: raw.DESK_ORG_ID,
      departmentId: raw.DESK_DEPARTMENT_ID,
    },
    replyBudgetMs: raw.SALESIQ_REPLY_BUDGET_MS,
    encryptionKey: raw.ZOHO_TOKEN_ENCRYPTION_KEY,
    httpTimeoutMs: raw.ZOHO_HTTP_TIMEOUT_MS,
  };
}

/** The settings row of an organisation (zoho_settings), as the SQL functions return it. */
export interface ZohoSettingsRow {
  org_id?: string;
  salesiq_screen_name?: string | null;
  salesiq_department?: string | null;
  desk_org_id?: string | null;
  desk_department_id?: string | null;
  accounts_url?: string | null;
  salesiq_api_url?: string | null;
  desk_api_url?: string | null;
}

/** An organisation's effective settings: its row where set, else the environment. */
export function effectiveSettings(config: ZohoConfig, row: ZohoSettingsRow | null | undefined) {
  const strip = (v: string | null | undefined) => (v ? v.replace(/\/+$/, "") : undefined);
  return {
    accountsUrl: strip(row?.accounts_url) ?? config.accountsUrl,
    salesiqApiUrl: strip(row?.salesiq_api_url) ?? config.salesiqApiUrl,
    deskApiUrl: strip(row?.desk_api_url) ?? config.deskApiUrl,
    screenName: row?.salesiq_screen_name || config.salesiq.screenName,
    department: row?.salesiq_department || config.salesiq.department,
    deskOrgId: row?.desk_org_id || config.desk.orgId,
    deskDepartmentId: row?.desk_department_id || config.desk.departmentId,
  };
}
