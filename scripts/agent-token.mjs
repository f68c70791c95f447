#!/usr/bin/env node
// Prints a Supabase-style JWT for a seeded agent, so that the agents' API can be tried locally:
//
//   npm run agent-token -- alex@pinecrest.example            (12 hours)
//   npm run agent-token -- morgan@pinecrest.example --ttl 600
//
// HS256 with SUPABASE_JWT_SECRET from the environment, else the local development secret that
// `npm start` uses (.switchboard/dev-jwt-secret, created on first use, mode 0600, worthless anywhere
// else). The user is looked up by email in auth.users of DATABASE_URL, else of the embedded database
// `npm start` serves (127.0.0.1:54322).
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT } from "jose";
import postgres from "postgres";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DEV_JWT_SECRET_FILE = path.join(root, ".switchboard", "dev-jwt-secret");

/** SUPABASE_JWT_SECRET, else the local development secret (created when missing). */
export async function loadOrCreateJwtSecret(env = process.env) {
  const given = env.SUPABASE_JWT_SECRET?.trim();
  if (given) return { secret: given, source: "env", created: false };
  try {
    const secret = (await readFile(DEV_JWT_SECRET_FILE, "utf8")).trim();
    if (secret.length >= 32) return { secret, source: "file", created: false };
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
  const secret = randomBytes(48).toString("base64url");
  await mkdir(path.dirname(DEV_JWT_SECRET_FILE), { recursive: true });
  await writeFile(DEV_JWT_SECRET_FILE, `${secret}\n`, { mode: 0o600 });
  return { secret, source: "file", created: true };
}

/** An HS256 token as Supabase Auth issues them for a signed-in user. */
export async function signAgentToken(secret, { sub, email, ttlSeconds = 12 * 3600 }) {
  return await new SignJWT({ role: "authenticated", email, aal: "aal1" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setAudience("authenticated")
    .setIssuer("switchboard-local")
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
    .sign(new TextEncoder().encode(secret));
}

async function main() {
  const args = process.argv.slice(2);
  const email = args.find((a) => !a.startsWith("--") && !/^\d+$/.test(a));
  const ttlIndex = args.indexOf("--ttl");
  const ttl = ttlIndex >= 0 ? Number(args[ttlIndex + 1]) : 12 * 3600;
  if (!email || !Number.isInteger(ttl) || ttl <= 0) {
    console.error("usage: npm run agent-token -- <agent email> [--ttl seconds]");
    process.exit(2);
  }
  const url = process.env.DATABASE_URL?.trim() || "postgres://postgres@127.0.0.1:54322/postgres";
  const sql = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    const [user] = await sql`
      select u.id, a.display_name, a.role from auth.users u
      left join public.support_agents a on a.user_id = u.id
      where lower(u.email) = lower(${email})`;
    if (!user) {
      console.error(`no user with email ${email} (is npm start running? the seeded agents are alex@, blair@ and morgan@pinecrest.example)`);
      process.exit(1);
    }
    if (!user.display_name) console.error(`warning: ${email} is not an agent: the API will answer 401`);
    const { secret } = await loadOrCreateJwtSecret();
    console.log(await signAgentToken(secret, { sub: user.id, email, ttlSeconds: ttl }));
  } finally {
    await sql.end({ timeout: 1 });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`agent-token: ${error.message}`);
    process.exit(1);
  });
}
