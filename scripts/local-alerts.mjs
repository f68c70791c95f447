// Alerts on this machine, shared by `npm start` and `npm run alerts`:
//  - the bearer token the functions' operational routes need (METRICS_TOKEN, else one kept in
//    .switchboard/metrics-token, mode 0600), so that the timer can call /alerts/deliver and you can
//    curl /health/incidents;
//  - the operator destination ALERT_WEBHOOK_URL becomes (a row of public.alert_destinations with
//    org_id null: it hears of every incident, the demo organisation's and system-wide ones), signed
//    with ALERT_WEBHOOK_SECRET, else a secret kept in .switchboard/alert-webhook-secret;
//  - a Standard Webhooks verifier for local receivers (node:crypto; the functions' own verifier is
//    TypeScript, which Node 20 cannot import).
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const TOKEN_FILE = path.join(root, ".switchboard", "metrics-token");
export const SECRET_FILE = path.join(root, ".switchboard", "alert-webhook-secret");
/** The name of the destination ALERT_WEBHOOK_URL becomes. */
export const ENV_DESTINATION = "ALERT_WEBHOOK_URL";
const SECRET = /^whsec_[A-Za-z0-9+/]{30,88}={0,2}$/;

async function kept(file, make) {
  try {
    const text = (await readFile(file, "utf8")).trim();
    if (text) return { value: text, created: false };
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  const value = make();
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, value + "\n", { mode: 0o600 });
  await chmod(file, 0o600);
  return { value, created: true };
}

export function newWebhookSecret() {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/** METRICS_TOKEN, or the local one (created on first use). */
export async function localMetricsToken(env = process.env) {
  const given = env.METRICS_TOKEN?.trim();
  if (given) return { token: given, source: "METRICS_TOKEN" };
  const { value } = await kept(TOKEN_FILE, () => randomBytes(24).toString("base64url"));
  return { token: value, source: path.relative(process.cwd(), TOKEN_FILE) };
}

/** ALERT_WEBHOOK_SECRET, or the local one (created on first use). Throws on a malformed secret. */
export async function localWebhookSecret(env = process.env) {
  const given = env.ALERT_WEBHOOK_SECRET?.trim();
  if (given) {
    if (!SECRET.test(given)) throw new Error("ALERT_WEBHOOK_SECRET must be whsec_ followed by base64 of 24 to 64 bytes");
    return { secret: given, source: "ALERT_WEBHOOK_SECRET" };
  }
  const { value } = await kept(SECRET_FILE, newWebhookSecret);
  return { secret: value, source: path.relative(process.cwd(), SECRET_FILE) };
}

/**
 * Makes ALERT_WEBHOOK_URL the operator destination (or switches that destination off when the
 * variable is unset) and describes where notices go: [{ name, url, org }] of enabled destinations.
 */
export async function syncEnvDestination(sql, env = process.env) {
  const url = env.ALERT_WEBHOOK_URL?.trim();
  let secretSource = null;
  if (url) {
    if (!/^https?:\/\/[^\s/?#]+/.test(url)) throw new Error("ALERT_WEBHOOK_URL must be an http(s) URL");
    const { secret, source } = await localWebhookSecret(env);
    secretSource = source;
    await sql`
      insert into public.alert_destinations (org_id, name, url, secret, enabled)
      values (null, ${ENV_DESTINATION}, ${url}, ${secret}, true)
      on conflict on constraint alert_destinations_name_unique
      do update set url = excluded.url, secret = excluded.secret, enabled = true`;
  } else {
    await sql`update public.alert_destinations set enabled = false where org_id is null and name = ${ENV_DESTINATION}`;
  }
  const destinations = await sql`
    select d.name, d.url, o.name as org from public.alert_destinations d left join public.orgs o on o.id = d.org_id
    where d.enabled order by d.org_id nulls first, d.name`;
  return { destinations, secretSource };
}

/** A URL for printing: a local one whole (without query or credentials); elsewhere the host only,
 *  since a path can be the secret (Slack's and Teams' incoming webhooks carry their token in it). */
export function showUrl(url) {
  try {
    const u = new URL(url);
    const local = ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
    return `${u.protocol}//${u.host}${local ? u.pathname : u.pathname === "/" ? "/" : "/…"}`;
  } catch {
    return "(unparseable URL)";
  }
}

/**
 * Verifies a Standard Webhooks request (webhook-id, webhook-timestamp within 300 s, v1 HMAC-SHA256).
 * Returns null when valid, else the reason.
 */
export function verifyStandardWebhook(secret, headers, rawBody, nowSeconds = Math.floor(Date.now() / 1000)) {
  const id = headers["webhook-id"];
  const ts = headers["webhook-timestamp"];
  const sig = headers["webhook-signature"];
  if (!id || !ts || !sig) return "missing webhook headers";
  if (!/^\d+$/.test(ts) || Math.abs(nowSeconds - Number(ts)) > 300) return "timestamp outside 300 s";
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${ts}.${rawBody}`).digest();
  for (const entry of String(sig).split(" ")) {
    const [version, value] = entry.split(",");
    if (version !== "v1" || !value) continue;
    const given = Buffer.from(value, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
  }
  return "no matching signature";
}
