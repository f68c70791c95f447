// Browser-test support: the stack `npm start` runs (scripts/serve.ts under Deno: the functions, the
// built dashboard at /dashboard/ and the local Auth stand-in) on a test database with the demo seed,
// and Debian's Chromium driven by playwright-core (never a downloaded browser), each browser with a
// fresh --user-data-dir.
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { ensureDashboardBuilt } from "../../scripts/build-dashboard.mjs";
import { SERVICE_KEY } from "../support/chat.ts";
import { createTestDatabase, type TestDatabase } from "../support/database.ts";
import { loadSeed, SECRET } from "../integration/agents/support.ts";
import { type FunctionsServer, startFunctionsServer } from "../e2e/support/server.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync",
];
export const SCREENSHOTS = path.resolve(import.meta.dirname, "../../docs/screenshots");

/** The seeded agents' passwords (scripts/local-site.ts, README "Dashboard") and a second organisation's supervisor. */
export const USERS = {
  alex: { email: "alex@pinecrest.example", password: "alex-pinecrest-local" },
  morgan: { email: "morgan@pinecrest.example", password: "morgan-pinecrest-local" },
  other: { email: "sam@elsewhere.example", password: "sam-elsewhere-local" },
};
export const OTHER_ORG = "00000000-0000-4000-8000-00000000e001";

export interface Stack {
  db: TestDatabase;
  server: FunctionsServer;
  dashboardUrl: string;
  functionsUrl: string;
  stop(): Promise<void>;
}

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  await ensureDashboardBuilt();
  const db = await createTestDatabase();
  await loadSeed(db.sql);
  // A second organisation with its own supervisor: it must see nothing of the first.
  await db.sql`insert into public.orgs (id, name) values (${OTHER_ORG}, 'Elsewhere Plumbing')`;
  await db.sql`insert into auth.users (id, email) values ('00000000-0000-4000-8000-00000000e701', ${USERS.other.email})`;
  await db.sql`
    insert into public.support_agents (id, org_id, user_id, display_name, email, role, status)
    values ('00000000-0000-4000-8000-00000000e711', ${OTHER_ORG}, '00000000-0000-4000-8000-00000000e701', 'Sam Other', ${USERS.other.email}, 'supervisor', 'online')`;
  const passwords = Object.fromEntries(Object.values(USERS).map((u) => [u.email, u.password]));
  const server = await startFunctionsServer({
    env: {
      DATABASE_URL: db.url, SUPABASE_JWT_SECRET: SECRET, SUPABASE_SERVICE_ROLE_KEY: SERVICE_KEY, RATE_LIMIT_STORE: "memory",
      CHAT_RATE_LIMIT_SITE_PER_MINUTE: "100000", CHAT_RATE_LIMIT_IP_PER_MINUTE: "100000", LOG_LEVEL: "warn",
      LOCAL_AUTH_PASSWORDS: JSON.stringify(passwords), ...env,
    },
  });
  return {
    db, server, dashboardUrl: `${server.url}/dashboard/`, functionsUrl: `${server.url}/functions/v1`,
    async stop() {
      await server.stop();
      await db.drop();
    },
  };
}

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen so far. */
  errors: string[];
  close(): Promise<void>;
}

export async function openBrowser(options: { width?: number; height?: number } = {}): Promise<Browser> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
  });
  const page = context.pages()[0] ?? await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  return {
    context, page, errors,
    async close() {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function signIn(page: Page, url: string, user: { email: string; password: string }) {
  await page.goto(url);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator(".live.live").waitFor({ timeout: 10_000 });
}

const axeSource = createRequire(import.meta.url)("fs").readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: number;
}

/** axe-core in the page: every violation (WCAG 2 A/AA and best practices). */
export async function axe(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: axeSource });
  return await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const result = await (window as any).axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v: { id: string; impact: string | null; help: string; nodes: unknown[] }) =>
      ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length }));
  });
}

export function serious(violations: AxeViolation[]): AxeViolation[] {
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** A web-chat customer (the chat function's API), as the widget talks to it. */
export async function customer(functionsUrl: string, name: string, phone?: string) {
  const res = await fetch(`${functionsUrl}/chat/sessions`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ site_key: "pinecrest-demo", customer: { name, ...(phone ? { phone } : {}) } }),
  });
  if (res.status !== 201) throw new Error(`chat start: ${res.status} ${await res.text()}`);
  const s = await res.json() as { session_id: string; session_token: string };
  return {
    id: s.session_id,
    async say(text: string) {
      const r = await fetch(`${functionsUrl}/chat/sessions/${s.session_id}/messages`, {
        method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${s.session_token}` },
        body: JSON.stringify({ text }),
      });
      if (r.status >= 300) throw new Error(`chat send: ${r.status} ${await r.text()}`);
      return await r.json();
    },
    async history(): Promise<{ messages: { sender: string; body: string }[] }> {
      const r = await fetch(`${functionsUrl}/chat/sessions/${s.session_id}`, { headers: { authorization: `Bearer ${s.session_token}` } });
      return await r.json();
    },
  };
}
