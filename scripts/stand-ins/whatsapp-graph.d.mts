// Types for scripts/stand-ins/whatsapp-graph.mjs.
export interface GraphRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  // deno-lint-ignore no-explicit-any
  body: any;
}

export interface GraphServer {
  /** http://127.0.0.1:<port>/v21.0 */
  url: string;
  token: string;
  wabaId: string;
  requests: GraphRequest[];
  templates: Map<string, { id: string; body: unknown }>;
  /** The next create answers this instead: an HTTP status and a body (object → JSON). */
  failNext(answer: { status: number; body?: unknown }): void;
  close(): Promise<void>;
}

export function startGraphServer(options?: { token?: string; wabaId?: string; port?: number }): Promise<GraphServer>;

export interface TemplateEndpoint {
  token: string;
  wabaId: string;
  requests: GraphRequest[];
  templates: Map<string, { id: string; body: unknown }>;
  failNext(answer: { status: number; body?: unknown }): void;
  /** {status, body} for POST /<version>/<WABA_ID>/message_templates; null for any other path. */
  handle(method: string, pathname: string, authorization: string | undefined, raw: string): { status: number; body: unknown } | null;
}

export function createTemplateEndpoint(options?: { token?: string; wabaId?: string }): TemplateEndpoint;
