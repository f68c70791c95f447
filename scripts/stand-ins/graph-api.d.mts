export interface SentMessage {
  id: string;
  phone_number_id: string;
  to: string;
  type: string;
  body: Record<string, any>;
  received_at: string;
}
export interface GraphApi {
  url: string;
  sent: SentMessage[];
  failNext(n: number, status?: number, extra?: { code?: number; message?: string }): void;
  setDelay(ms: number): void;
  clear(): void;
  close(): Promise<void>;
}
export function startGraphApi(options?: {
  port?: number;
  host?: string;
  tokens?: string[] | null;
  /** WABA id and token the message_templates endpoint accepts (default: the demo seed's). */
  templates?: { token?: string; wabaId?: string };
  onSend?: (sent: SentMessage) => void;
}): Promise<GraphApi>;
