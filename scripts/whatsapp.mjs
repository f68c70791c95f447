#!/usr/bin/env node
// `npm run whatsapp`: plays a WhatsApp customer. Builds the webhook Meta sends for an inbound message
// (a text, or a tap on a reply button with --button), signs it as Meta does (X-Hub-Signature-256,
// HMAC-SHA256 of the raw body with the app secret: WHATSAPP_APP_SECRET, else npm start's local one),
// sends it to the local whatsapp-webhook and prints what the bot sent back, as the local Graph API
// stand-in received it.
//
//   npm run whatsapp -- --from +14165550199 "I need a person"
//   npm run whatsapp -- --from +14165550199 --button SCHEDULE_CALLBACK
//   options: --to <phone_number_id> (default 100000000000001, the demo number)  --name "Jane Cooper"
//            --url URL (default http://127.0.0.1:54321/functions/v1/whatsapp-webhook)
//            --graph URL (default http://127.0.0.1:54323, npm start's stand-in)  --wait ms (default 10000)
import { createHmac, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { LOCAL_SECRETS_FILE, loadLocalSecrets } from "./local-secrets.mjs";

const usage = 'usage: npm run whatsapp -- --from +14165550199 "message text" | --button AGENT_MODE [--to PHONE_NUMBER_ID] [--name NAME] [--url URL] [--graph URL] [--wait MS]';
const die = (message, code = 1) => {
  console.error(message);
  process.exit(code);
};

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      from: { type: "string" },
      to: { type: "string", default: "100000000000001" },
      name: { type: "string", default: "WhatsApp customer" },
      button: { type: "string" },
      url: { type: "string" },
      graph: { type: "string" },
      wait: { type: "string", default: "10000" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
} catch (error) {
  die(`${error.message}\n${usage}`, 2);
}
const { values: args, positionals } = parsed;
if (args.help) die(usage, 0);
const from = (args.from ?? "").replace(/[^0-9]/g, "");
if (from.length < 8) die(`--from must be the customer's number in international form\n${usage}`, 2);
const text = positionals.join(" ").trim();
if (!text && !args.button) die(`give a message text or --button ID\n${usage}`, 2);
const port = process.env.PORT || 54321;
const url = args.url ?? `http://127.0.0.1:${port}/functions/v1/whatsapp-webhook`;
const graph = (args.graph ?? `http://127.0.0.1:${process.env.GRAPH_PORT || 54323}`).replace(/\/v[0-9.]+\/?$/, "");
const waitMs = Number(args.wait);

const secret = process.env.WHATSAPP_APP_SECRET?.trim() || (await loadLocalSecrets())?.WHATSAPP_APP_SECRET;
if (!secret) die(`No WhatsApp app secret: start the server with \`npm start\` first (it creates ${LOCAL_SECRETS_FILE}).`);

const wamid = `wamid.SIM${randomBytes(12).toString("hex").toUpperCase()}`;
const message = args.button
  ? { from, id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), type: "interactive",
      interactive: { type: "button_reply", button_reply: { id: args.button, title: text || args.button } } }
  : { from, id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), type: "text", text: { body: text } };
const body = JSON.stringify({
  object: "whatsapp_business_account",
  entry: [{
    id: "0",
    changes: [{
      field: "messages",
      value: {
        messaging_product: "whatsapp",
        metadata: { display_phone_number: "14165550100", phone_number_id: args.to },
        contacts: [{ profile: { name: args.name }, wa_id: from }],
        messages: [message],
      },
    }],
  }],
});
const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

const sentBefore = await listSent().catch(() => null);
if (sentBefore === null) {
  console.error(`(the Graph API stand-in at ${graph} is not answering: replies will not be shown; is npm start running without WHATSAPP_GRAPH_URL?)`);
}
console.log(`→ ${args.button ? `[button ${args.button}]` : text}`);
let res;
try {
  res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", "x-hub-signature-256": signature }, body });
} catch (error) {
  die(`Cannot reach ${url} (${error.cause?.code ?? error.message}). Is \`npm start\` running?`);
}
const answer = await res.text();
console.log(`  webhook answered ${res.status} ${answer}`);
if (!res.ok || sentBefore === null) process.exit(res.ok ? 0 : 1);

// Print replies as they arrive; stop once nothing new came for 2 s after the first, or at --wait.
const seen = new Set(sentBefore.map((m) => m.id));
const started = Date.now();
let lastNew = 0;
while (Date.now() - started < waitMs) {
  await new Promise((r) => setTimeout(r, 250));
  for (const m of await listSent()) {
    if (seen.has(m.id)) continue;
    seen.add(m.id);
    lastNew = Date.now();
    const b = m.body;
    const line = b.text?.body ?? b.interactive?.body?.text ?? `[template ${b.template?.name}]`;
    console.log(`← ${line}`);
    for (const button of b.interactive?.action?.buttons ?? []) console.log(`   [${button.reply.title}]  (--button ${button.reply.id})`);
  }
  if (lastNew && Date.now() - lastNew > 2000) break;
}
if (!lastNew) console.log("  (no reply yet: a person may own this conversation, or the bot is still thinking)");

async function listSent() {
  const r = await fetch(`${graph}/_sent?to=${encodeURIComponent(`+${from}`)}`);
  if (!r.ok) throw new Error(String(r.status));
  return await r.json();
}
