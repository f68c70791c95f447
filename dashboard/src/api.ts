// The agents' API over fetch, with the signed-in agent's access token. Errors carry the API's code.
import { AGENTS_URL } from "./config.ts";
import type { Agent, CannedReply, DayStats, Message, Session, TeamMember } from "./types.ts";

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export type TokenSource = () => Promise<string | null>;

export interface HistoryQuery {
  search?: string;
  agent_id?: string;
  status?: string;
  start_date?: string;
  end_date?: string;
  limit: number;
  offset: number;
}

export function createApi(token: TokenSource, onUnauthorized: () => void) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const jwt = await token();
    if (!jwt) throw new ApiError(401, "UNAUTHORIZED", "Not signed in");
    let res: Response;
    try {
      res = await fetch(`${AGENTS_URL}${path}`, {
        method,
        headers: { authorization: `Bearer ${jwt}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "NETWORK", "The server cannot be reached");
    }
    const text = await res.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch { /* not JSON */ }
    if (!res.ok) {
      const error = (data as { error?: { code?: string; message?: string } } | null)?.error;
      if (res.status === 401) onUnauthorized();
      throw new ApiError(res.status, error?.code ?? "HTTP_ERROR", error?.message ?? `HTTP ${res.status}`);
    }
    return data as T;
  }

  const q = (params: Record<string, string | number | undefined>) => {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") s.set(k, String(v));
    return s.toString();
  };

  return {
    me: () => call<{ agent: Agent }>("GET", "/me"),
    setStatus: (status: string) => call<unknown>("PATCH", "/me", { status }),
    waiting: () => call<{ sessions: Session[] }>("GET", "/sessions/waiting"),
    myChats: () => call<{ sessions: Session[] }>("GET", "/sessions/my-chats/me"),
    all: () => call<{ sessions: Session[] }>("GET", "/sessions/all"),
    history: (h: HistoryQuery) => call<{ sessions: Session[] }>("GET", `/sessions/history?${q({ ...h })}`),
    session: (id: string) => call<{ session: Session }>("GET", `/sessions/${id}`),
    messages: (id: string) => call<{ session: Session; messages: Message[] }>("GET", `/sessions/${id}/messages`),
    accept: (id: string, agentId?: string) =>
      call<{ session: Session }>("POST", `/sessions/${id}/assign`, agentId ? { agent_id: agentId } : undefined),
    reply: (id: string, text: string, clientMessageId: string) =>
      call<{ duplicate: boolean; message: Message }>("POST", `/sessions/${id}/messages`, { text, client_message_id: clientMessageId }),
    end: (id: string) => call<unknown>("POST", `/sessions/${id}/end`),
    transfer: (id: string, target: { agent_id: string } | { skill: string }) => call<unknown>("POST", `/sessions/${id}/transfer`, target),
    escalate: (id: string) => call<unknown>("POST", `/sessions/${id}/escalate`),
    stats: (from: string, to: string) => call<{ days: DayStats[] }>("GET", `/stats?${q({ from, to })}`),
    team: () => call<{ agents: TeamMember[] }>("GET", "/team"),
    canned: () => call<{ canned_replies: CannedReply[] }>("GET", "/canned-replies"),
  };
}

export type Api = ReturnType<typeof createApi>;
