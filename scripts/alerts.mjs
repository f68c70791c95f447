#!/usr/bin/env node
// `npm run alerts`: see alerts arrive on this machine, next to a running `npm start`.
//
//   npm run alerts -- --simulate error-burst [--no-wait]
//       Starts a local receiver, registers it as an alert destination for this run, adds a burst of
//       Telnyx-webhook 503s to the shared metrics (as the functions flush them), runs the evaluation
//       and the delivery as the schedule does, and prints the signed notice the receiver gets; then
//       keeps evaluating every 10 s until the "resolved" notice arrives (about 2 minutes: the error
//       window and the clear time are a minute each), unless --no-wait. The receiver is removed at
//       the end. ALERT_WEBHOOK_URL, if npm start registered it, gets the same notices.
//   npm run alerts -- --listen [--port 9999]
//       A receiver for ALERT_WEBHOOK_URL=http://127.0.0.1:9999 npm start: prints every notice and
//       whether its signature verifies with ALERT_WEBHOOK_SECRET or .switchboard/alert-webhook-secret.
//
// The database is DATABASE_URL, else npm start's embedded one (127.0.0.1:PGLITE_PORT, 54322); the
// functions are at http://127.0.0.1:PORT (54321), called with METRICS_TOKEN or .switchboard/metrics-token.
import http from "node:http";
import postgres from "postgres";
import { localMetricsToken, localWebhookSecret, newWebhookSecret, verifyStandardWebhook } from "./local-alerts.mjs";

const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

function say(line) {
  console.log(`[alerts] ${line}`);
}
function fail(message) {
  console.error(`[alerts] ${message}`);
  process.exit(1);
}

const SCENARIOS = ["error-burst"];
const usage = `usage: npm run alerts -- --simulate ${SCENARIOS.join("|")} [--no-wait]
       npm run alerts -- --listen [--port 9999]`;

/** An HTTP receiver that verifies each request and prints it. */
async function startReceiver(secret, { port = 0, onNotice = () => {} } = {}) {
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const problem = verifyStandardWebhook(secret, req.headers, raw);
      let body = null;
      try {
        body = JSON.parse(raw);
      } catch {
        // printed as it is below
      }
      console.log("");
      say(`notice received ${problem ? `(signature NOT valid: ${problem})` : "(signature valid)"}`);
      say(`  webhook-id ${req.headers["webhook-id"]}, type ${body?.type ?? "?"}`);
      say(`  text: ${body?.text ?? raw.slice(0, 300)}`);
      console.log("");
      res.writeHead(problem ? 401 : 200, { "content-type": "text/plain" }).end(problem ? "invalid signature" : "ok");
      if (!problem && body) onNotice(body);
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return { url: `http://127.0.0.1:${server.address().port}/alerts`, close: () => new Promise((r) => server.close(r)) };
}

async function listen() {
  const port = Number(option("--port") ?? 9999);
  if (!Number.isInteger(port) || port < 1 || port > 65535) fail("--port must be a port number");
  const { secret, source } = await localWebhookSecret();
  const receiver = await startReceiver(secret, { port });
  say(`listening on ${receiver.url} (any path); verifying with the secret from ${source}`);
  say(`run: ALERT_WEBHOOK_URL=http://127.0.0.1:${port}/alerts npm start`);
}

async function simulate(scenario) {
  if (!SCENARIOS.includes(scenario)) fail(`unknown scenario "${scenario}"\n${usage}`);
  const functions = `http://127.0.0.1:${process.env.PORT || 54321}/functions/v1`;
  const dbUrl = process.env.DATABASE_URL?.trim() || `postgres://postgres@127.0.0.1:${process.env.PGLITE_PORT || 54322}/postgres`;
  try {
    const res = await fetch(`${functions}/health`, { signal: AbortSignal.timeout(3000) });
    if (!res.ok) throw new Error(`status ${res.status}`);
  } catch (error) {
    fail(`the functions do not answer at ${functions} (${error.message}): start \`npm start\` first`);
  }
  const { token } = await localMetricsToken();
  const sql = postgres(dbUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  const secret = newWebhookSecret();
  const name = `simulation ${process.pid}`;
  let receiver;
  let incidentId = null;
  let resolved = null;
  const cleanup = async () => {
    await sql`delete from public.alert_destinations where org_id is null and name = ${name}`.catch(() => {});
    await sql.end({ timeout: 2 });
    await receiver?.close();
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));

  const deliver = async () => {
    const res = await fetch(`${functions}/alerts/deliver`, { method: "POST", headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`/alerts/deliver answered ${res.status}`);
    return await res.json();
  };
  const evaluate = async () => (await sql`select public.evaluate_alerts() as s`)[0].s;

  try {
    receiver = await startReceiver(secret, {
      onNotice: (body) => {
        if (body.type === "alert.resolved" && body.data?.incident_id === incidentId) resolved = body;
      },
    });
    await sql`insert into public.alert_destinations (org_id, name, url, secret) values (null, ${name}, ${receiver.url}, ${secret})`;
    say(`receiver on ${receiver.url}, registered as the alert destination "${name}" for this run`);

    await evaluate(); // a baseline snapshot of the counters
    const burst = [
      { name: "switchboard_http_requests_total", labels: { function: "telnyx-webhook", status: "503" }, value: 30 },
      { name: "switchboard_http_requests_total", labels: { function: "telnyx-webhook", status: "200" }, value: 10 },
    ];
    await sql`select public.metrics_add(${JSON.stringify(burst)}::text::jsonb)`;
    say("added a burst to the shared metrics: 30 answers 503 and 10 answers 200 from telnyx-webhook");
    const summary = await evaluate();
    say(`evaluate_alerts(): ${summary.fired} fired, ${summary.notices} notice(s) queued`);
    const [firing] = await sql`
      select id::int as id from public.alert_incidents where rule_name = 'telnyx_error_rate' and status = 'firing'`;
    incidentId = firing?.id ?? null;
    if (incidentId === null) fail("no telnyx_error_rate incident is firing: is the rule switched off?");
    const run = await deliver();
    say(`POST /alerts/deliver: ${run.sent} sent, ${run.retrying} to retry`);

    if (flag("--no-wait")) return;
    say("waiting for the resolved notice: the burst leaves the 1-minute window, then a minute clear (Ctrl-C to stop)");
    const deadline = Date.now() + 5 * 60_000;
    while (!resolved && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10_000));
      await evaluate();
      await deliver();
    }
    if (!resolved) fail("no resolved notice within 5 minutes");
    say(`incident #${incidentId} resolved; see it with its timeline at ${functions}/health/incidents`);
  } finally {
    await cleanup();
  }
}

if (flag("--listen")) {
  await listen();
} else if (option("--simulate")) {
  await simulate(option("--simulate"));
} else {
  fail(usage);
}
