#!/usr/bin/env node
// `npm run salesiq`: plays a visitor on Zoho SalesIQ. Sends each message as SalesIQ's Zobot webhook
// does (handler "message", the visitor map with active_conversation_id, a request id) to the local
// salesiq-webhook, prints the bot's answer (reply, suggestions, forward, pending), then what reached
// Zoho: SalesIQ callback answers and closes, and Desk contacts and calls, as `npm start`'s local Zoho
// stand-in received them.
//
//   npm run salesiq -- "I want a callback tomorrow at 2pm"
//   npm run salesiq -- "hi" "Schedule a callback" "tomorrow at 2pm" "Call this number"
//   options: --conversation ID (default: a new one per run)  --name "Jane Cooper"  --phone "+14165550199"
//            --email jane@example.com  --key WEBHOOK_KEY (default pinecrest-demo-salesiq, the demo seed)
//            --url URL (default http://127.0.0.1:54321/functions/v1/salesiq-webhook)
//            --zoho URL (default http://127.0.0.1:54324, npm start's stand-in)  --wait ms (default 4000)
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";

const usage = 'usage: npm run salesiq -- "message" ["message" ...] [--conversation ID] [--name NAME] [--phone PHONE] [--email EMAIL] [--key KEY] [--url URL] [--zoho URL] [--wait MS]';
const die = (message, code = 1) => {
  console.error(message);
  process.exit(code);
};

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      conversation: { type: "string" },
      name: { type: "string", default: "Jane Cooper" },
      phone: { type: "string", default: "+14165550199" },
      email: { type: "string" },
      key: { type: "string", default: "pinecrest-demo-salesiq" },
      url: { type: "string", default: "http://127.0.0.1:54321/functions/v1/salesiq-webhook" },
      zoho: { type: "string", default: `http://127.0.0.1:${process.env.ZOHO_PORT ?? "54324"}` },
      wait: { type: "string", default: "4000" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
} catch (error) {
  die(`${error.message}\n${usage}`, 2);
}
const { values: o, positionals: messages } = parsed;
if (o.help) die(usage, 0);
if (!messages.length) die(usage, 2);
const waitMs = Number(o.wait);
if (!Number.isInteger(waitMs) || waitMs < 0) die("--wait must be a number of milliseconds", 2);

const conversation = o.conversation ?? `${Date.now()}${randomBytes(2).readUInt16BE(0)}`;
const webhook = `${o.url.replace(/\/+$/, "")}/${o.key}`;

async function zohoState() {
  try {
    const res = await fetch(`${o.zoho}/_state`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? await res.json() : null;
  } catch {
    return null;
  }
}

function show(answer) {
  const replies = Array.isArray(answer.replies) ? answer.replies : [];
  const text = replies.map((r) => (typeof r === "string" ? r : r?.text ?? JSON.stringify(r))).join("\n       ");
  const extra = answer.action === "forward" ? `  → forwarded${answer.department ? ` to department ${answer.department}` : ""}` : "";
  console.log(`bot  [${answer.action}] ${text}${extra}`);
  if (answer.suggestions?.length) console.log(`     suggestions: [${answer.suggestions.join("] [")}]`);
}

const before = await zohoState();
const seen = { salesiq: before?.salesiq?.length ?? 0, contacts: before?.contacts?.length ?? 0, calls: before?.calls?.length ?? 0 };
console.log(`SalesIQ conversation ${conversation} → ${webhook}`);
for (const text of messages) {
  console.log(`you  ${text}`);
  const body = {
    handler: "message",
    operation: "message",
    org_id: "local",
    message: { text },
    request: { id: `local-${Date.now()}-${randomBytes(4).toString("hex")}` },
    visitor: {
      name: o.name, phone: o.phone, ...(o.email ? { email: o.email } : {}),
      active_conversation_id: conversation, channel: "Website", time_zone: "America/Toronto",
    },
    attachments: [],
  };
  let res;
  try {
    res = await fetch(webhook, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  } catch (error) {
    die(`cannot reach ${webhook} (${error.cause?.code ?? error.message}): is npm start running?`);
  }
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) die(`salesiq-webhook answered ${res.status}: ${JSON.stringify(answer)}`);
  show(answer);
}

// What reached Zoho (Desk calls are filed right after the answer; a 'pending' answer follows later).
const state = await (async () => {
  const deadline = Date.now() + waitMs;
  let last = await zohoState();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    last = await zohoState();
  }
  return last;
})();
if (!state) {
  console.log(`(no local Zoho stand-in at ${o.zoho}: with real Zoho settings, look in SalesIQ and Desk)`);
  process.exit(0);
}
const salesiq = state.salesiq.slice(seen.salesiq).filter((e) => e.kind === "close" ? e.id === conversation : true);
for (const e of salesiq) {
  if (e.kind === "close") console.log(`salesiq  chat ${e.id} closed`);
  else if (e.kind === "response") console.log(`salesiq  late answer to ${e.id}: [${e.body.action}] ${(e.body.replies ?? []).join(" / ")}`);
  else console.log(`salesiq  ${e.kind} ${e.id}`);
}
for (const c of state.contacts.slice(seen.contacts)) console.log(`desk     new contact ${[c.firstName, c.lastName].filter(Boolean).join(" ")} ${c.phone ?? ""} (id ${c.id})`);
for (const c of state.calls.slice(seen.calls)) {
  console.log(`desk     call ${c.id}: "${c.subject}" at ${c.startTime} (UTC), contact ${c.contactId}, department ${c.departmentId}`);
}
if (!salesiq.length && state.contacts.length === seen.contacts && state.calls.length === seen.calls) console.log("(nothing reached Zoho)");
