// The subject and description of a callback, as staff read them in their list (and, later, in
// Zoho Desk): "Callback: <the actual issue>", then who, when and the last five messages.
import { toLocalIso } from "./time.ts";

export interface HistoryItem {
  sender_type: string;
  body: string;
  created_at: string;
  metadata?: Record<string, unknown>;
}

export interface CallbackParty {
  name?: string | null;
  email?: string | null;
  phone: string;
  channel: string;
}

const SUBJECT_MAX = 120;
const LAST_MESSAGES = 5;

/** Words that say nothing about the issue: never used as a subject. */
const EMPTY = /^(none|null|undefined|n\/?a|test|-|\.|\s)*$/i;

function clean(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/**
 * "Callback: furnace making a banging noise". The issue is, in order: what the LLM summarised, the
 * bot's hand-over summary, or the customer's first message that says something (not a button, a
 * greeting, a time or a phone number). With nothing usable: "Callback: request from <name or phone>".
 */
export function callbackSubject(
  issue: string | null | undefined,
  customerMessages: string[],
  party: CallbackParty,
  isSmallTalk: (text: string) => boolean,
): string {
  const candidates = [issue ?? "", ...customerMessages.filter((m) => !isSmallTalk(m))];
  for (const candidate of candidates) {
    const text = clean(candidate).replace(/^callback:\s*/i, "");
    if (text.length >= 3 && !EMPTY.test(text) && !/^(none|null|undefined)\b/i.test(text)) {
      const cut = text.length > SUBJECT_MAX ? `${text.slice(0, SUBJECT_MAX - 1).trimEnd()}…` : text;
      return `Callback: ${cut}`;
    }
  }
  return `Callback: request from ${clean(party.name ?? "") || party.phone}`;
}

function speaker(type: string): string {
  return type === "customer" ? "Customer" : type === "bot" ? "Bot" : type === "agent" ? "Agent" : "System";
}

/** Customer details, the requested time (in their zone and as they said it), the last 5 messages. */
export function callbackDescription(input: {
  party: CallbackParty;
  scheduledFor: Date;
  timeZone: string;
  requestedText: string | null;
  history: HistoryItem[];
}): string {
  const { party } = input;
  const lines = [
    "Customer",
    `  Name: ${clean(party.name ?? "") || "(not given)"}`,
    `  Phone: ${party.phone}`,
    ...(party.email ? [`  Email: ${clean(party.email)}`] : []),
    `  Channel: ${party.channel}`,
    "",
    "Requested time",
    `  ${toLocalIso(input.scheduledFor, input.timeZone)} (${input.timeZone})`,
    ...(input.requestedText ? [`  As said: "${clean(input.requestedText).slice(0, 200)}"`] : []),
    "",
    `Last ${LAST_MESSAGES} messages`,
    ...input.history
      .filter((m) => m.body && m.sender_type !== "system")
      .slice(-LAST_MESSAGES)
      .map((m) => `  [${m.created_at}] ${speaker(m.sender_type)}: ${clean(m.body).slice(0, 500)}`),
  ];
  return lines.join("\n");
}
