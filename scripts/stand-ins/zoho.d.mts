// Types for scripts/stand-ins/zoho.mjs (used from TypeScript by tests and benchmarks).
export interface ZohoClientRegistration {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}
export interface SalesIqEventRecord {
  kind: "response" | "progress" | "close" | "transfer";
  screen: string;
  id: string;
  body: Record<string, any>;
  at: number;
}
export interface ZohoState {
  refreshes: Array<{ at: number; refreshToken: string; clientId: string }>;
  refreshAttempts: number;
  salesiq: SalesIqEventRecord[];
  contacts: Array<Record<string, any>>;
  calls: Array<Record<string, any>>;
  requests: Array<{ method: string; path: string; at: number }>;
}
export interface ZohoStandIn {
  url: string;
  state: ZohoState;
  addClient(client: ZohoClientRegistration): string;
  issueToken(): string;
  expireAll(): void;
  setTokenTtl(seconds: number): void;
  setInvalidTokenStatus(status: 400 | 401): void;
  setRefreshDelay(ms: number): void;
  failRefresh(...outcomes: Array<string | 500>): void;
  failNext(match: RegExp, status?: number, count?: number): void;
  dropNextCallAnswer(): void;
  reset(): void;
  close(): Promise<void>;
}
export function startZohoStandIn(options?: {
  port?: number;
  host?: string;
  clients?: ZohoClientRegistration[];
  tokenTtlSeconds?: number;
  invalidTokenStatus?: 400 | 401;
  deskOrgId?: string;
  onEvent?: (event: { kind: string; [k: string]: unknown }) => void;
}): Promise<ZohoStandIn>;
export declare const LOCAL_ZOHO_CLIENTS: {
  salesiq: ZohoClientRegistration;
  desk: ZohoClientRegistration;
  deskOrgId: string;
};
