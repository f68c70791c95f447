#!/usr/bin/env node
// `npm run call`: plays Telnyx. Builds the webhook Telnyx's AI Assistant sends when a call starts
// (assistant.initialization, the dynamic-variables request) or ends (call.conversation.ended), in
// Telnyx's documented shape, signs it with the local development key as Telnyx signs (Ed25519 over
// `${timestamp}|${body}`), sends it to the local server and prints the answer.
//
//   npm run call -- --from +14165550199 --to +14165550100
//   npm run call -- --from +14165550199 --to +14165550100 --event call.conversation.ended
//   options: --url URL (default http://127.0.0.1:54321/functions/v1/telnyx-webhook, or $PORT)
//            --json (print the raw answer)  --full (do not shorten long values)
import { parseArgs } from "node:util";
import { DEV_KEY_FILE, importPrivateKey, isDevPublicKey, loadDevKeys, signTelnyx } from "./dev-keys.mjs";
import { conversationEndedEvent, initializationEvent } from "./telnyx-events.mjs";

const EVENTS = ["assistant.initialization", "call.conversation.ended"];
const usage = `usage: npm run call -- --from +14165550199 --to +14165550100 [--event ${EVENTS.join("|")}] [--url URL] [--json] [--full]`;

function die(message, code = 1) {
  console.error(message);
  process.exit(code);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      from: { type: "string" },
      to: { type: "string" },
      url: { type: "string" },
      event: { type: "string", default: "assistant.initialization" },
      json: { type: "boolean", default: false },
      full: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  }));
} catch (error) {
  die(`${error.message}\n${usage}`, 2);
}
if (args.help) die(usage, 0);
if (!args.from || !args.to) die(`--from and --to are required\n${usage}`, 2);
if (!EVENTS.includes(args.event)) die(`--event must be one of ${EVENTS.join(", ")}\n${usage}`, 2);
const url = args.url ?? `http://127.0.0.1:${process.env.PORT || 54321}/functions/v1/telnyx-webhook`;

const keys = await loadDevKeys().catch((error) => die(`cannot read ${DEV_KEY_FILE}: ${error.message}`));
if (!keys) {
  die(`No development key yet (${DEV_KEY_FILE}).\nStart the server with \`npm start\` first: it creates the key and trusts it.`);
}
const envKey = process.env.TELNYX_PUBLIC_KEY?.trim();
if (envKey && !isDevPublicKey(envKey, keys)) {
  die(
    [
      "TELNYX_PUBLIC_KEY is set in this shell to a key other than the local development key.",
      "A server started with it trusts only requests signed by that key's private half, which only",
      "Telnyx has: this script can sign only with the development key, so its requests would be",
      "refused (401 SIGNATURE_INVALID). To try the server locally, start it without TELNYX_PUBLIC_KEY",
      "(`npm start` then trusts the development key) and run this from a shell without it.",
    ].join("\n"),
  );
}

const build = args.event === "assistant.initialization" ? initializationEvent : conversationEndedEvent;
const body = JSON.stringify(build({ from: args.from, to: args.to }));
const headers = {
  "content-type": "application/json",
  "user-agent": "switchboard-call (local Telnyx stand-in)",
  ...(await signTelnyx(await importPrivateKey(keys), body)),
};

console.log(`POST ${url}`);
console.log(`  ${args.event}: ${args.from} calls ${args.to}`);
const started = performance.now();
let response;
try {
  response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(15_000) });
} catch (error) {
  const cause = error.cause?.code ?? error.name;
  if (cause === "ECONNREFUSED") {
    die(`\nNothing is listening at ${new URL(url).origin}. Start the server first: \`npm start\` (in another terminal).`);
  }
  if (cause === "TimeoutError") die(`\nNo answer within 15 s from ${url}.`);
  die(`\nRequest failed: ${error.message}${error.cause ? ` (${error.cause.message ?? error.cause})` : ""}`);
}
const text = await response.text();
const roundTrip = performance.now() - started;

console.log(
  `\n${response.status} ${response.statusText}   round trip ${roundTrip.toFixed(1)} ms` +
    `   X-Response-Time: ${response.headers.get("x-response-time") ?? "(not sent)"}`,
);
let answer;
try {
  answer = JSON.parse(text);
} catch {
  console.log(text);
  process.exit(response.ok ? 0 : 1);
}
if (args.json) {
  console.log(JSON.stringify(answer, null, 2));
} else if (answer?.dynamic_variables && typeof answer.dynamic_variables === "object") {
  printTable(answer.dynamic_variables, args.full);
  const rest = Object.fromEntries(Object.entries(answer).filter(([k]) => k !== "dynamic_variables"));
  if (Object.keys(rest).length) console.log(`\n${JSON.stringify(rest, null, 2)}`);
} else {
  console.log(JSON.stringify(answer, null, 2));
  if (response.status === 401) {
    console.log("\nThe server refused the signature. Was it started by `npm start` with the development key?");
  }
  if (response.status === 404) console.log("\nNo such function on this server: check --url.");
}
process.exit(response.ok ? 0 : 1);

function printTable(variables, full) {
  const entries = Object.entries(variables);
  console.log(`\ndynamic_variables (${entries.length}):`);
  const width = Math.min(32, Math.max(...entries.map(([k]) => k.length), 4));
  const columns = process.stdout.columns || 120;
  const room = Math.max(30, columns - width - 6);
  let shortened = false;
  for (const [key, value] of entries) {
    let shown = typeof value === "string" ? value : JSON.stringify(value);
    shown = shown.replace(/\s*\n\s*/g, " ⏎ ");
    if (!full && shown.length > room) {
      shown = `${shown.slice(0, room - 1)}…`;
      shortened = true;
    }
    console.log(`  ${key.padEnd(width)}  ${shown}`);
  }
  if (shortened) console.log("\n  (long values shortened; --full shows them whole, --json the raw answer)");
}
