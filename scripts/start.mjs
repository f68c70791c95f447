#!/usr/bin/env node
// `npm start`: the whole backend on this machine, with no Docker, no accounts and no settings.
//
//  1. Database: DATABASE_URL if set; otherwise an embedded Postgres (PGlite, data kept in
//     .switchboard/pglite) served on 127.0.0.1:54322 (PGLITE_PORT).
//  2. Migrations and the demo seed, with the one migrator (scripts/migrate.mjs → `supabase db push`).
//  3. A development Ed25519 key pair standing in for Telnyx's (scripts/dev-keys.mjs), trusted unless
//     you set TELNYX_PUBLIC_KEY yourself, in which case only your key is trusted.
//  4. The functions under Deno at http://127.0.0.1:54321/functions/v1/<name> (PORT).
//     With the embedded database the agents' feed polls every 250 ms (AGENTS_FEED_POLL_MS): its
//     NOTIFY never reaches a listener on another connection.
//  5. Where pg_cron is absent, `select public.run_maintenance_tasks()` every 60 s
//     (MAINTENANCE_INTERVAL_MS; 0 turns it off), and the chat sweep (POST /functions/v1/chat/sweep:
//     answers messages whose worker died, retries the outbox) every 15 s (CHAT_SWEEP_INTERVAL_MS).
//  6. Local stand-ins for what Supabase and Meta provide (scripts/local-secrets.mjs): a service role
//     key, a WhatsApp app secret, verify token and access token, unless set in your environment; and,
//     unless WHATSAPP_GRAPH_URL is set, a local Graph API on 127.0.0.1:54323 (GRAPH_PORT) that shows
//     every WhatsApp reply the bot sends (scripts/stand-ins/graph-api.mjs); and, unless real Zoho
//     settings are given (ZOHO_ACCOUNTS_URL, SALESIQ_/DESK_ tokens), a local Zoho (accounts, SalesIQ,
//     Desk) on 127.0.0.1:54324 (ZOHO_PORT) that prints what reaches SalesIQ and Desk
//     (scripts/stand-ins/zoho.mjs).
//  7. Where pg_cron is absent, `select public.evaluate_alerts()` every 60 s (ALERTS_INTERVAL_MS; 0
//     turns it off); either way, due alert notices are delivered through
//     POST /functions/v1/alerts/deliver on the same beat (pg_net does that on Supabase).
//  8. Alerts: ALERT_WEBHOOK_URL, if set, receives every incident's notices (the operator's
//     destination), signed with ALERT_WEBHOOK_SECRET or a secret kept in .switchboard/; the
//     functions' bearer token is METRICS_TOKEN or one kept in .switchboard/metrics-token.
// Ctrl-C (or SIGTERM) stops the functions (finishing requests and background work), then the database.
// It never sets an insecure flag: unsigned requests are refused as they are in production.
import path from "node:path";
import postgres from "postgres";
import { migrate } from "./migrate.mjs";
import { DEV_KEY_FILE, isDevPublicKey, loadOrCreateDevKeys } from "./dev-keys.mjs";
import { portIsFree, startEmbeddedPostgres } from "./embedded-db.mjs";
import { root, startDenoServer } from "./deno-server.mjs";
import { effective, LOCAL_SECRETS_FILE, loadOrCreateLocalSecrets } from "./local-secrets.mjs";
import { startGraphApi } from "./stand-ins/graph-api.mjs";
import { LOCAL_ZOHO_CLIENTS, startZohoStandIn } from "./stand-ins/zoho.mjs";
import { DEV_JWT_SECRET_FILE, loadOrCreateJwtSecret } from "./agent-token.mjs";
import { localMetricsToken, showUrl, syncEnvDestination } from "./local-alerts.mjs";
import { ensureDashboardBuilt } from "./build-dashboard.mjs";

const FUNCTIONS_PORT = intFromEnv("PORT", 54321);
const DB_PORT = intFromEnv("PGLITE_PORT", 54322);
const MAINTENANCE_INTERVAL_MS = intFromEnv("MAINTENANCE_INTERVAL_MS", 60_000);
const CHAT_SWEEP_INTERVAL_MS = intFromEnv("CHAT_SWEEP_INTERVAL_MS", 15_000);
const GRAPH_PORT = intFromEnv("GRAPH_PORT", 54323);
const ALERTS_INTERVAL_MS = intFromEnv("ALERTS_INTERVAL_MS", 60_000);
const ZOHO_PORT = intFromEnv("ZOHO_PORT", 54324);
const HOST = "127.0.0.1";

function intFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) fail(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

function say(line = "") {
  console.log(line === "" ? "" : `[start] ${line}`);
}
function fail(message) {
  console.error(`[start] ${message}`);
  process.exit(1);
}

/** postgres://user:secret@host/db → postgres://user:***@host/db, for printing. */
function redact(url) {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}

const cleanups = []; // run in reverse order on exit
let shuttingDown = false;

async function shutdown(reason, code = 0) {
  if (shuttingDown) return;
  shuttingDown = true;
  if (reason) say(reason);
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error(`[start] while stopping: ${error.message}`);
    }
  }
  process.exit(code);
}

let interrupts = 0;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    interrupts += 1;
    if (interrupts > 1) {
      console.error("[start] stopping now, without waiting");
      process.exit(130);
    }
    void shutdown(`${signal}: stopping (again to force)`, 0);
  });
}

async function main() {
  // 1. Database ------------------------------------------------------------------------------
  if (!(await portIsFree(FUNCTIONS_PORT, HOST))) {
    fail(`port ${HOST}:${FUNCTIONS_PORT} is in use (another npm start?): stop it, or set PORT`);
  }
  let databaseUrl = process.env.DATABASE_URL?.trim() || "";
  let embedded = null;
  if (databaseUrl) {
    say(`database: DATABASE_URL (${redact(databaseUrl)})`);
  } else {
    say(`database: embedded PGlite, data in ${path.relative(process.cwd(), path.join(root, ".switchboard", "pglite"))}`);
    try {
      embedded = await startEmbeddedPostgres({ host: HOST, port: DB_PORT });
    } catch (error) {
      fail(`cannot start the embedded database: ${error.message}`);
    }
    cleanups.push(() => embedded.stop());
    databaseUrl = embedded.url;
    say(`database: listening on ${databaseUrl}`);
    if (embedded.missingExtensions.length) {
      say(
        `database: PGlite lacks ${embedded.missingExtensions.join(", ")} (named in the migrations, which skip it where absent)`,
      );
    }
  }

  // 2. Migrations and seed -------------------------------------------------------------------
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  cleanups.push(() => sql.end({ timeout: 2 }));
  let supabaseManaged;
  try {
    [{ supabaseManaged }] = await sql`
      select exists (select 1 from pg_roles where rolname = 'supabase_admin') as "supabaseManaged"`;
  } catch (error) {
    return shutdown(`cannot connect to the database: ${error.message}`, 1);
  }
  const before = await appliedMigrations(sql);
  const started = performance.now();
  try {
    if (supabaseManaged) {
      // A Supabase database already has what bootstrap.sql recreates, and demo data has no place in it.
      say("database is Supabase-managed: applying migrations only (no bootstrap, no demo seed)");
      await migrate(databaseUrl, { bootstrap: false, seed: false });
    } else {
      await migrate(databaseUrl, { bootstrap: true, seed: true });
    }
  } catch (error) {
    return shutdown(`migrations failed: ${error.message}`, 1);
  }
  const after = await appliedMigrations(sql);
  const added = after.filter((v) => !before.includes(v));
  say(
    `migrations: ${added.length ? `applied ${added.length} (${added.join(", ")})` : "up to date"}, ` +
      `${after.length} in all, in ${Math.round(performance.now() - started)} ms`,
  );

  // 3. Telnyx key ----------------------------------------------------------------------------
  const { keys, created } = await loadOrCreateDevKeys();
  let publicKey;
  const userKey = process.env.TELNYX_PUBLIC_KEY?.trim();
  if (userKey) {
    publicKey = userKey;
    say(
      isDevPublicKey(userKey, keys)
        ? "telnyx key: TELNYX_PUBLIC_KEY (the development key)"
        : "telnyx key: TELNYX_PUBLIC_KEY from your environment; only requests it signs are accepted (npm run call cannot sign for it)",
    );
  } else {
    publicKey = keys.publicKey;
    say(`telnyx key: development key ${created ? "created in" : "from"} ${path.relative(process.cwd(), DEV_KEY_FILE)}`);
  }
  if (["1", "true", "yes", "on"].includes((process.env.SWITCHBOARD_INSECURE_SKIP_SIGNATURES ?? "").trim().toLowerCase())) {
    say("WARNING: SWITCHBOARD_INSECURE_SKIP_SIGNATURES is set in your environment: unsigned requests will be accepted");
  }

  // 3b. Local stand-ins for Supabase's and Meta's secrets, and for the Graph API ---------------
  const { secrets, created: madeSecrets } = await loadOrCreateLocalSecrets();
  const local = {};
  for (const name of ["SUPABASE_SERVICE_ROLE_KEY", "WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_ACCESS_TOKEN", "ZOHO_TOKEN_ENCRYPTION_KEY"]) {
    local[name] = effective(name, secrets);
  }
  const localNames = Object.entries(local).filter(([, v]) => v.from === "local").map(([k]) => k);
  if (localNames.length) {
    say(`local secrets ${madeSecrets.length ? "created in" : "from"} ${path.relative(process.cwd(), LOCAL_SECRETS_FILE)}: ${localNames.join(", ")}`);
  }
  let graphUrl = process.env.WHATSAPP_GRAPH_URL?.trim() || "";
  if (!graphUrl) {
    const graph = await startGraphApi({
      port: GRAPH_PORT,
      tokens: [local.WHATSAPP_ACCESS_TOKEN.value],
      onSend: (m) => {
        const text = m.body.text?.body ?? m.body.interactive?.body?.text ?? `[template ${m.body.template?.name}]`;
        const buttons = m.body.interactive?.action?.buttons?.map((b) => b.reply.title) ?? [];
        say(`whatsapp → ${m.to}: ${text.replace(/\s+/g, " ").slice(0, 160)}${buttons.length ? `  [${buttons.join("] [")}]` : ""}`);
      },
    }).catch((error) => fail(`cannot start the local Graph API on ${HOST}:${GRAPH_PORT} (${error.message}): set GRAPH_PORT or WHATSAPP_GRAPH_URL`));
    cleanups.push(() => graph.close());
    graphUrl = graph.url;
    say(`whatsapp: local Graph API stand-in at ${graphUrl} (replies are printed here)`);
  }

  // Zoho: a local stand-in unless real Zoho settings are given.
  const zohoSettings = ["ZOHO_ACCOUNTS_URL", "SALESIQ_API_URL", "DESK_API_URL", "SALESIQ_REFRESH_TOKEN", "SALESIQ_ACCESS_TOKEN", "DESK_REFRESH_TOKEN", "DESK_ACCESS_TOKEN"];
  let zohoLocal = {};
  let zohoUrl = "";
  if (!zohoSettings.some((name) => process.env[name]?.trim())) {
    const zoho = await startZohoStandIn({
      port: ZOHO_PORT,
      clients: [LOCAL_ZOHO_CLIENTS.salesiq, LOCAL_ZOHO_CLIENTS.desk],
      deskOrgId: LOCAL_ZOHO_CLIENTS.deskOrgId,
      onEvent: (e) => {
        if (e.kind === "call") say(`zoho desk ← call "${e.call.subject}" at ${e.call.startTime} for contact ${e.call.contactId}`);
        else if (e.kind === "contact") say(`zoho desk ← contact ${[e.contact.firstName, e.contact.lastName].filter(Boolean).join(" ")} ${e.contact.phone ?? ""}`);
        else if (e.kind === "response") say(`zoho salesiq ← ${e.body.action} (request ${e.id}): ${(e.body.replies ?? []).join(" / ").replace(/\s+/g, " ").slice(0, 160)}`);
        else if (e.kind === "close") say(`zoho salesiq ← close conversation ${e.id}`);
        else if (e.kind === "refresh") say(`zoho accounts ← token refresh (${e.clientId})`);
      },
    }).catch((error) => fail(`cannot start the local Zoho on ${HOST}:${ZOHO_PORT} (${error.message}): set ZOHO_PORT or real Zoho settings`));
    cleanups.push(() => zoho.close());
    zohoUrl = zoho.url;
    zohoLocal = {
      ZOHO_ACCOUNTS_URL: zoho.url, SALESIQ_API_URL: zoho.url, DESK_API_URL: zoho.url,
      SALESIQ_CLIENT_ID: LOCAL_ZOHO_CLIENTS.salesiq.clientId, SALESIQ_CLIENT_SECRET: LOCAL_ZOHO_CLIENTS.salesiq.clientSecret,
      SALESIQ_REFRESH_TOKEN: LOCAL_ZOHO_CLIENTS.salesiq.refreshToken, SALESIQ_SCREEN_NAME: "pinecrest",
      SALESIQ_VISITOR_DEPARTMENT: "3465000000005",
      DESK_CLIENT_ID: LOCAL_ZOHO_CLIENTS.desk.clientId, DESK_CLIENT_SECRET: LOCAL_ZOHO_CLIENTS.desk.clientSecret,
      DESK_REFRESH_TOKEN: LOCAL_ZOHO_CLIENTS.desk.refreshToken, DESK_ORG_ID: LOCAL_ZOHO_CLIENTS.deskOrgId,
      DESK_DEPARTMENT_ID: "70000000001",
    };
    say(`zoho: local stand-in for accounts, SalesIQ and Desk at ${zoho.url} (what reaches them is printed here)`);
  }

  // Agents' JWTs: SUPABASE_JWT_SECRET from the environment, else a local one (npm run agent-token signs with it).
  const jwt = await loadOrCreateJwtSecret();
  say(jwt.source === "env"
    ? "agents' JWT secret: SUPABASE_JWT_SECRET from your environment"
    : `agents' JWT secret: ${jwt.created ? "created in" : "from"} ${path.relative(process.cwd(), DEV_JWT_SECRET_FILE)} (SUPABASE_JWT_SECRET=${jwt.secret})`);

  // The agents' dashboard, served at /dashboard/ with a local stand-in for Supabase Auth's password
  // sign-in (scripts/local-site.ts): built now if missing or older than its sources.
  try {
    const t0 = performance.now();
    const { built } = await ensureDashboardBuilt();
    if (built) say(`dashboard: built dashboard/dist in ${Math.round(performance.now() - t0)} ms`);
  } catch (error) {
    say(`dashboard: build failed, /dashboard/ answers 503 until \`npm run build:dashboard\` works:\n${error.message}`);
  }

  // 4. Functions -----------------------------------------------------------------------------
  const metricsToken = await localMetricsToken();
  const env = {
    ...process.env,
    ...zohoLocal,
    DATABASE_URL: databaseUrl,
    TELNYX_PUBLIC_KEY: publicKey,
    WHATSAPP_GRAPH_URL: graphUrl,
    SUPABASE_JWT_SECRET: jwt.secret,
    METRICS_TOKEN: metricsToken.token,
    ...Object.fromEntries(Object.entries(local).map(([k, v]) => [k, v.value])),
  };
  if (embedded && !process.env.AGENTS_FEED_POLL_MS?.trim()) {
    // PGlite is one backend behind a socket: a NOTIFY goes back to the connection that wrote it, never
    // to the agents' feed listening on another one, so the feed finds new events by polling. Poll
    // often (the database is local and idle) so that a message reaches the feed within ~0.3 s.
    env.AGENTS_FEED_POLL_MS = "250";
    say("agents' feed: polls every 250 ms (LISTEN/NOTIFY does not cross the embedded database's socket; AGENTS_FEED_POLL_MS)");
  }
  if (env.SUPABASE_DB_URL) {
    // Functions prefer SUPABASE_DB_URL; locally they must use the database started above.
    say("ignoring SUPABASE_DB_URL from your environment: the functions use the database above");
    delete env.SUPABASE_DB_URL;
  }
  const server = startDenoServer({
    env,
    port: FUNCTIONS_PORT,
    host: HOST,
    detached: true, // its own process group: Ctrl-C reaches it once, through us, so it can drain
    onLine: (line, stream) => (stream === "stderr" ? console.error(line) : console.log(line)),
  });
  cleanups.push(async () => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return;
    server.child.kill("SIGTERM");
    const timer = setTimeout(() => server.child.kill("SIGKILL"), 15_000);
    await server.exited;
    clearTimeout(timer);
  });
  process.on("exit", () => {
    if (server.child.exitCode === null) server.child.kill("SIGKILL");
  });
  let baseUrl;
  try {
    baseUrl = await server.ready;
  } catch (error) {
    return shutdown(`the functions server did not start: ${error.message}`, 1);
  }
  server.exited.then(({ code, signal }) => {
    if (!shuttingDown) void shutdown(`the functions server stopped (${signal ?? `code ${code}`}): stopping`, 1);
  });

  // 5. Maintenance and the chat sweep --------------------------------------------------------
  const maintenance = await scheduleMaintenance(sql);
  cleanups.push(() => maintenance.stop());
  const sweep = scheduleChatSweep(baseUrl, local.SUPABASE_SERVICE_ROLE_KEY.value);
  cleanups.push(() => sweep.stop());

  // 6. Alerts --------------------------------------------------------------------------------
  let alertTargets;
  try {
    alertTargets = await syncEnvDestination(sql);
  } catch (error) {
    return shutdown(`alerts: ${error.message}`, 1);
  }
  const alerts = await scheduleAlerts(sql, { baseUrl, token: metricsToken.token });
  cleanups.push(() => alerts.stop());

  printWelcome({
    baseUrl, databaseUrl, embedded, userKey, maintenance: maintenance.description, sweep: sweep.description, graphUrl, local, zohoUrl,
    alerts: { ...alertTargets, schedule: alerts.description, tokenSource: metricsToken.source },
  });
}

/**
 * Every ALERTS_INTERVAL_MS: evaluate_alerts() where pg_cron does not schedule it, then
 * POST /functions/v1/alerts/deliver (there is no pg_net here to call it). Runs never overlap; a
 * failed run is logged and the next one tried on time. Transitions and deliveries are printed.
 */
async function scheduleAlerts(sql, { baseUrl, token }) {
  if (ALERTS_INTERVAL_MS === 0) return { description: "off (ALERTS_INTERVAL_MS=0)", stop() {} };
  const [{ cron }] = await sql`select exists (select 1 from pg_extension where extname = 'pg_cron') as cron`;
  let running = null;
  const tick = async () => {
    if (!cron) {
      const [{ summary }] = await sql`select public.evaluate_alerts() as summary`;
      if (summary.fired || summary.resolved) say(`alerts: ${summary.fired} fired, ${summary.resolved} resolved`);
      if (summary.errors && Object.keys(summary.errors).length) say(`alerts: rules failed: ${JSON.stringify(summary.errors)}`);
    }
    const res = await fetch(`${baseUrl}/functions/v1/alerts/deliver`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(55_000),
    });
    const run = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`/alerts/deliver answered ${res.status} ${run?.error?.code ?? ""}`.trim());
    if (run.claimed) {
      say(`alerts: ${run.sent} notice(s) delivered, ${run.retrying} to retry, ${run.failed} given up`);
    }
  };
  const run = () => {
    if (running || shuttingDown) return;
    running = tick()
      .catch((error) => console.error(`[start] alerts run failed: ${error.message}`))
      .finally(() => (running = null));
  };
  run();
  const timer = setInterval(run, ALERTS_INTERVAL_MS);
  const every = `every ${ALERTS_INTERVAL_MS / 1000} s`;
  return {
    description: cron
      ? `pg_cron evaluates; notices delivered ${every}`
      : `evaluate_alerts() and delivery ${every} (no pg_cron here)`,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

async function appliedMigrations(sql) {
  try {
    const rows = await sql`select version from supabase_migrations.schema_migrations order by version`;
    return rows.map((r) => r.version);
  } catch {
    return []; // not migrated yet
  }
}

/**
 * Runs public.run_maintenance_tasks() every MAINTENANCE_INTERVAL_MS where pg_cron does not schedule
 * it. Runs never overlap; a failed run is logged and the next one tried on time.
 */
async function scheduleMaintenance(sql) {
  const [{ cron }] = await sql`select exists (select 1 from pg_extension where extname = 'pg_cron') as cron`;
  if (cron) return { description: "pg_cron schedules run_maintenance_tasks()", stop() {} };
  if (MAINTENANCE_INTERVAL_MS === 0) return { description: "off (MAINTENANCE_INTERVAL_MS=0)", stop() {} };

  let running = null;
  let announcedMissing = false;
  const tick = async () => {
    // Callable with no arguments (every parameter has a default), e.g. run_maintenance_tasks(p_now
    // timestamptz default now()): to_regprocedure('public.run_maintenance_tasks()') would miss that one.
    const [{ present }] = await sql`
      select exists (
        select 1 from pg_catalog.pg_proc p
        where p.pronamespace = 'public'::regnamespace and p.proname = 'run_maintenance_tasks'
          and p.pronargs = p.pronargdefaults) as present`;
    if (!present) {
      if (!announcedMissing) say("maintenance: public.run_maintenance_tasks() does not exist yet; will look again");
      announcedMissing = true;
      return;
    }
    const t0 = performance.now();
    const [{ summary }] = await sql`select public.run_maintenance_tasks() as summary`;
    const ms = Math.round(performance.now() - t0);
    say(`maintenance: ${describeMaintenance(summary)} (${ms} ms)`);
  };
  const run = () => {
    if (running || shuttingDown) return;
    running = tick()
      .catch((error) => console.error(`[start] maintenance failed: ${error.message}`))
      .finally(() => (running = null));
  };
  run();
  const timer = setInterval(run, MAINTENANCE_INTERVAL_MS);
  return {
    description: `run_maintenance_tasks() every ${MAINTENANCE_INTERVAL_MS / 1000} s (no pg_cron here)`,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Calls the chat function's sweep every CHAT_SWEEP_INTERVAL_MS, as pg_cron (through pg_net) does on
 * Supabase: customer messages whose worker died are answered, due outbox rows are retried. Prints a
 * line only when it did something.
 */
function scheduleChatSweep(baseUrl, serviceKey) {
  if (CHAT_SWEEP_INTERVAL_MS === 0) return { description: "off (CHAT_SWEEP_INTERVAL_MS=0)", stop() {} };
  let running = null;
  const tick = async () => {
    const res = await fetch(`${baseUrl}/functions/v1/chat/sweep`, {
      method: "POST",
      headers: { authorization: `Bearer ${serviceKey}` },
      signal: AbortSignal.timeout(60_000),
    });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) {
      say(`chat sweep: ${res.status} ${body?.error?.code ?? ""}`);
      return;
    }
    const outbox = body.outbox ?? {};
    if (body.answered || body.failed || outbox.claimed) {
      say(`chat sweep: answered ${body.answered}, failed ${body.failed}; outbox sent ${outbox.sent ?? 0}, retrying ${outbox.retrying ?? 0}, failed ${outbox.failed ?? 0}`);
    }
  };
  const run = () => {
    if (running || shuttingDown) return;
    running = tick()
      .catch((error) => console.error(`[start] chat sweep failed: ${error.message}`))
      .finally(() => (running = null));
  };
  const timer = setInterval(run, CHAT_SWEEP_INTERVAL_MS);
  return {
    description: `every ${CHAT_SWEEP_INTERVAL_MS / 1000} s`,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** {"webhook_logs": {"rows": 12, "ms": 3}, "analyzed": ["public.jobs"], ...} → "webhook_logs 12 rows; analyzed public.jobs". */
function describeMaintenance(summary) {
  if (!summary || typeof summary !== "object" || Array.isArray(summary)) return JSON.stringify(summary);
  const parts = [];
  for (const [task, value] of Object.entries(summary)) {
    if (value && typeof value === "object" && !Array.isArray(value) && typeof value.rows === "number") {
      if (value.rows > 0) parts.push(`${task} ${value.rows} rows`);
    } else if (Array.isArray(value)) {
      if (value.length) parts.push(`${task} ${value.join(", ")}`);
    } else if (typeof value === "number" && /_ms$|^ms$/.test(task)) {
      // timings: the total is printed after
    } else if (value !== null && typeof value !== "object") {
      parts.push(`${task} ${value}`);
    }
  }
  return parts.length ? parts.join("; ") : "nothing to do";
}

function describeAlertTargets({ destinations, secretSource }) {
  if (destinations.length === 0) {
    return ["  Alerts go    nowhere yet: set ALERT_WEBHOOK_URL (a Slack or Teams incoming webhook works as is)"];
  }
  return destinations.map((d, i) =>
    `  ${i === 0 ? "Alerts go to" : "            "} ${showUrl(d.url)}   (${d.org ? `${d.org}'s incidents` : "every incident"}` +
    `${d.name === "ALERT_WEBHOOK_URL" && secretSource ? `; signing secret in ${secretSource}` : ""})`
  );
}

function printWelcome({ baseUrl, databaseUrl, embedded, userKey, maintenance, sweep, graphUrl, local, zohoUrl, alerts }) {
  const webhook = `${baseUrl}/functions/v1/telnyx-webhook`;
  const call = (from, what) => `    npm run call -- --from ${from} --to +14165550100   # ${what}`;
  console.log(
    [
      "",
      "Switchboard is running.",
      `  Functions    ${baseUrl}/functions/v1/<name>   (Telnyx webhook: ${webhook})`,
      `  Database     ${redact(databaseUrl)}${embedded ? "   (embedded PGlite; psql works too)" : ""}`,
      `  Telnyx key   ${userKey ? "yours (TELNYX_PUBLIC_KEY)" : "local development key (npm run call signs with it)"}`,
      `  Maintenance  ${maintenance}`,
      `  Alerts       ${alerts.schedule}`,
      ...describeAlertTargets(alerts),
      `  Incidents    curl -H "Authorization: Bearer ${alerts.tokenSource === "METRICS_TOKEN" ? "$METRICS_TOKEN" : "$(cat .switchboard/metrics-token)"}" ${baseUrl}/functions/v1/health/incidents`,
      "  Try an alert npm run alerts -- --simulate error-burst",
      "",
      "  Try a call to the demo number +14165550100 (Pinecrest Home Services):",
      call("+14165550199", "a known caller: Jane Cooper"),
      call("+14165550142", "two clients share this number: ambiguous"),
      call("+14165550123", "an unknown caller"),
      "",
      "  Chat with the demo organisation's bot on the web (rule-based: set OPENAI_API_KEY for an LLM):",
      `    curl -s -X POST ${baseUrl}/functions/v1/chat/sessions -H 'content-type: application/json' -d '{"site_key": "pinecrest-demo", "customer": {"name": "Jane"}}'`,
      "  or on WhatsApp, through the local Graph API stand-in:",
      '    npm run whatsapp -- --from +14165550177 "I need a person"',
      "  or on Zoho SalesIQ (Zobot webhook; callbacks go to Zoho Desk):",
      '    npm run salesiq -- "I want a callback tomorrow at 2pm"',
      "",
      `  Zoho         ${zohoUrl ? `${zohoUrl}   (local stand-in; SalesIQ webhook ${baseUrl}/functions/v1/salesiq-webhook/pinecrest-demo-salesiq)` : "your Zoho settings"}`,
      `  WhatsApp     ${graphUrl}${process.env.WHATSAPP_GRAPH_URL ? "" : "   (local stand-in; replies printed here)"}`,
      `  Chat sweep   ${sweep}`,
      `  Service key  ${local.SUPABASE_SERVICE_ROLE_KEY.from === "local" ? local.SUPABASE_SERVICE_ROLE_KEY.value : "yours (SUPABASE_SERVICE_ROLE_KEY)"}   (debug view: GET /functions/v1/chat/sessions/<id>/debug)`,
      `  Dashboard    ${baseUrl}/dashboard/   (sign in as alex@pinecrest.example / alex-pinecrest-local; README, "Dashboard")`,
      "  Human agents: TOKEN=$(npm run -s agent-token -- alex@pinecrest.example), then",
      `    curl -H "Authorization: Bearer $TOKEN" ${baseUrl}/functions/v1/agents/sessions/waiting`,
      "",
      "  Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
}

main().catch((error) => shutdown(`failed: ${error.stack ?? error.message}`, 1));
