// Shapes of the agents' API (functions/_shared/agents/api.ts, agent_session_json in SQL).
export type AgentStatus = "online" | "away" | "offline";
export type SessionStatus = "waiting" | "active" | "ended";
export type Sender = "customer" | "bot" | "agent" | "system";

export interface Agent {
  id: string;
  org_id: string;
  display_name: string;
  email: string;
  role: "agent" | "supervisor";
  status: AgentStatus;
  skills: string[];
  max_concurrent: number;
  active_sessions: number | null;
}

export interface TeamMember {
  id: string;
  display_name: string;
  role: "agent" | "supervisor";
  status: AgentStatus;
  skills: string[];
  max_concurrent: number;
  active_sessions: number;
}

export interface Session {
  id: string;
  status: SessionStatus;
  priority: number;
  required_skill: string | null;
  escalation_level: number;
  summary: string | null;
  agent_id: string | null;
  agent_name: string | null;
  ended_reason: string | null;
  queued_at: string;
  assigned_at: string | null;
  first_response_at: string | null;
  ended_at: string | null;
  expires_at: string | null;
  customer_messages: number;
  agent_messages: number;
  conversation: {
    id: string;
    channel: string;
    status: string;
    customer_phone: string | null;
    customer_name: string | null;
    last_customer_message_at: string | null;
  };
}

export interface Message {
  id: number | string;
  sender: Sender;
  body: string;
  created_at: string;
  agent_name?: string | null;
  delivery?: string | null;
}

export interface CannedReply {
  shortcut: string;
  text: string;
}

export interface DayStats {
  agent_id: string;
  display_name: string;
  day: string;
  sessions_accepted: number;
  sessions_transferred: number;
  sessions_ended: number;
  first_responses: number;
  first_response_seconds_total: number;
  handling_seconds_total: number;
  customer_messages_answered: number;
  agent_messages: number;
}

/** One event of the live feed (feed.ts on the server): the row's columns and its payload. */
export interface FeedEvent {
  id: string;
  type: string;
  session_id: string | null;
  conversation_id: string | null;
  agent_id: string | null;
  created_at: string;
  message_id?: number;
  sender?: Sender;
  body?: string;
  status?: SessionStatus;
  previous_agent_id?: string;
  ended_reason?: string;
}
