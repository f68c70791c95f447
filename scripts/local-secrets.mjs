// Secrets for the local runtime only: the stand-ins of what a Supabase project and Meta give you
// (a service role key, a WhatsApp app secret, verify token and access token, a Zoho token sealing key). `npm start` makes them
// once, keeps them in .switchboard/local-secrets.json (gitignored, mode 0600) and uses each unless
// the same variable is set in your environment; the simulators read them to sign like Meta does.
// They are worthless anywhere else and never deployed.
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const LOCAL_SECRETS_FILE = path.join(root, ".switchboard", "local-secrets.json");

/** The variables made here, each with how to make a fresh value. */
const MADE = {
  SUPABASE_SERVICE_ROLE_KEY: () => `local-service-role-${randomBytes(24).toString("base64url")}`,
  WHATSAPP_APP_SECRET: () => randomBytes(24).toString("hex"),
  WHATSAPP_VERIFY_TOKEN: () => `local-verify-${randomBytes(8).toString("hex")}`,
  WHATSAPP_ACCESS_TOKEN: () => `local-graph-token-${randomBytes(12).toString("hex")}`,
  // Seals Zoho tokens in the database (functions/_shared/zoho/sealing.ts).
  ZOHO_TOKEN_ENCRYPTION_KEY: () => randomBytes(32).toString("base64"),
};

export async function loadLocalSecrets(file = LOCAL_SECRETS_FILE) {
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    if (error.code === "ENOENT") return null;
    throw new Error(`${file} is unreadable (${error.message}); delete it to make new local secrets`);
  }
}

/** Loads the file, adds any value it lacks, saves it if it changed. Returns {secrets, created: [names]}. */
export async function loadOrCreateLocalSecrets(file = LOCAL_SECRETS_FILE) {
  const secrets = (await loadLocalSecrets(file)) ?? {};
  const created = [];
  for (const [name, make] of Object.entries(MADE)) {
    if (typeof secrets[name] !== "string" || secrets[name].length < 8) {
      secrets[name] = make();
      created.push(name);
    }
  }
  if (created.length) {
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
    await rename(tmp, file);
  }
  return { secrets, created };
}

/** What the local runtime uses for `name`: the environment's value if set, else the local one. */
export function effective(name, secrets, env = process.env) {
  const own = env[name]?.trim();
  return own ? { value: own, from: "environment" } : { value: secrets[name], from: "local" };
}
