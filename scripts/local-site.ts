// LOCAL ONLY, never deployed: what `npm start` serves next to the functions on port 54321 so that the
// agents' dashboard runs on one machine exactly as it runs against a Supabase project.
//
//   /dashboard/...   the built dashboard (dashboard/dist, `npm run build:dashboard`); on Supabase it
//                    lives on a static host instead (README, "Dashboard").
//   /auth/v1/...     a stand-in for the few Supabase Auth (GoTrue) endpoints supabase-js calls for
//                    email + password sign-in: POST token?grant_type=password|refresh_token, GET user,
//                    POST logout. It knows only the seeded users' passwords (LOCAL_AUTH_PASSWORDS, a
//                    JSON object email → password, replaces that list, for tests), looks the user up in
//                    auth.users, and signs HS256 tokens with SUPABASE_JWT_SECRET as Supabase Auth does.
//                    Refresh tokens are signed too (stateless; a real project's are single-use rows).
//
// scripts/serve.ts mounts this; the Supabase deployment never runs serve.ts, so none of it ships.
import postgres from "postgres";
import { jwtVerify, SignJWT } from "jose";

/** The seeded agents' local passwords (supabase/seed.sql; README, "Dashboard"). Worthless anywhere else. */
export const SEEDED_PASSWORDS: Record<string, string> = {
  "alex@pinecrest.example": "alex-pinecrest-local",
  "blair@pinecrest.example": "blair-pinecrest-local",
  "morgan@pinecrest.example": "morgan-pinecrest-local",
};

const ACCESS_TTL_SECONDS = 3600;
const REFRESH_TTL_SECONDS = 7 * 24 * 3600;
const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  ico: "image/x-icon",
  json: "application/json",
  webmanifest: "application/manifest+json",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  txt: "text/plain; charset=utf-8",
};

type Env = Record<string, string | undefined>;

function authError(status: number, errorCode: string, msg: string): Response {
  // GoTrue's error shape: supabase-js reads error_code and msg.
  return Response.json({ code: status, error_code: errorCode, msg }, { status, headers: { "cache-control": "no-store" } });
}

export function createLocalSite(env: Env, dashboardDir: URL) {
  const secret = env.SUPABASE_JWT_SECRET ? new TextEncoder().encode(env.SUPABASE_JWT_SECRET) : null;
  let passwords = SEEDED_PASSWORDS;
  if (env.LOCAL_AUTH_PASSWORDS) {
    try {
      passwords = JSON.parse(env.LOCAL_AUTH_PASSWORDS);
    } catch {
      throw new Error("LOCAL_AUTH_PASSWORDS must be a JSON object: email → password");
    }
  }
  const databaseUrl = env.SUPABASE_DB_URL || env.DATABASE_URL;
  let sql: postgres.Sql | null = null;
  const db = () => (sql ??= postgres(databaseUrl!, { max: 1, onnotice: () => {}, connect_timeout: 5 }));

  async function issue(user: { id: string; email: string }) {
    const now = Math.floor(Date.now() / 1000);
    const access = await new SignJWT({ role: "authenticated", email: user.email, aal: "aal1", session_id: crypto.randomUUID() })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(user.id).setAudience("authenticated")
      .setIssuer("switchboard-local-auth").setIssuedAt(now).setExpirationTime(now + ACCESS_TTL_SECONDS).sign(secret!);
    const refresh = await new SignJWT({ email: user.email, use: "refresh" })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" }).setSubject(user.id).setAudience("switchboard-local-refresh")
      .setIssuedAt(now).setExpirationTime(now + REFRESH_TTL_SECONDS).sign(secret!);
    return Response.json({
      access_token: access, token_type: "bearer", expires_in: ACCESS_TTL_SECONDS, expires_at: now + ACCESS_TTL_SECONDS,
      refresh_token: refresh, user: userJson(user),
    }, { headers: { "cache-control": "no-store" } });
  }

  function userJson(user: { id: string; email: string }) {
    return {
      id: user.id, aud: "authenticated", role: "authenticated", email: user.email,
      app_metadata: { provider: "email", providers: ["email"] }, user_metadata: {},
      created_at: new Date(0).toISOString(),
    };
  }

  async function readJson(req: Request): Promise<Record<string, unknown>> {
    try {
      const body = await req.json();
      return body && typeof body === "object" ? body : {};
    } catch {
      return {};
    }
  }

  async function auth(req: Request, url: URL): Promise<Response> {
    if (!secret || !databaseUrl) return authError(503, "not_configured", "Local auth needs SUPABASE_JWT_SECRET and DATABASE_URL");
    const path = url.pathname.slice("/auth/v1".length);
    if (req.method === "POST" && path === "/token") {
      const grant = url.searchParams.get("grant_type");
      const body = await readJson(req);
      if (grant === "password") {
        const email = String(body.email ?? "").trim().toLowerCase();
        const password = String(body.password ?? "");
        if (!email || !password || passwords[email] !== password) {
          return authError(400, "invalid_credentials", "Invalid login credentials");
        }
        const [user] = await db()<{ id: string; email: string }[]>`
          select u.id::text as id, u.email from auth.users u where lower(u.email) = ${email}`;
        if (!user) return authError(400, "invalid_credentials", "Invalid login credentials");
        return await issue(user);
      }
      if (grant === "refresh_token") {
        try {
          const { payload } = await jwtVerify(String(body.refresh_token ?? ""), secret, {
            algorithms: ["HS256"], audience: "switchboard-local-refresh",
          });
          return await issue({ id: String(payload.sub), email: String(payload.email) });
        } catch {
          return authError(400, "refresh_token_not_found", "Invalid Refresh Token");
        }
      }
      return authError(400, "validation_failed", "Unsupported grant_type (local auth: password, refresh_token)");
    }
    if (req.method === "GET" && path === "/user") {
      const token = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1] ?? "";
      try {
        const { payload } = await jwtVerify(token, secret, { algorithms: ["HS256"], audience: "authenticated" });
        return Response.json(userJson({ id: String(payload.sub), email: String(payload.email) }));
      } catch {
        return authError(401, "bad_jwt", "invalid JWT");
      }
    }
    if (req.method === "POST" && path === "/logout") return new Response(null, { status: 204 });
    return authError(404, "not_found", "The local auth stand-in answers password sign-in only");
  }

  async function file(url: URL): Promise<Response> {
    let rel = decodeURIComponent(url.pathname.slice("/dashboard/".length));
    if (rel.split("/").some((part) => part === ".." || part.startsWith("."))) return new Response("Not found", { status: 404 });
    if (rel === "" || !/\.[a-z0-9]+$/i.test(rel)) rel = "index.html"; // the app's own routes
    try {
      const body = await Deno.readFile(new URL(rel, dashboardDir));
      const ext = rel.split(".").pop()!.toLowerCase();
      return new Response(body, {
        headers: {
          "content-type": TYPES[ext] ?? "application/octet-stream",
          // Hashed file names under assets/ never change; index.html always revalidates.
          "cache-control": rel.startsWith("assets/") ? "public, max-age=31536000, immutable" : "no-cache",
          "x-content-type-options": "nosniff",
        },
      });
    } catch {
      if (rel === "index.html") {
        return new Response("The dashboard is not built: run `npm run build:dashboard` (npm start builds it when missing).\n", {
          status: 503, headers: { "content-type": "text/plain; charset=utf-8" },
        });
      }
      return new Response("Not found", { status: 404 });
    }
  }

  /** The answer for /dashboard and /auth/v1 paths; null for everything else. */
  return function localSite(req: Request): Promise<Response> | Response | null {
    const url = new URL(req.url);
    if (url.pathname === "/dashboard") return Response.redirect(new URL("/dashboard/", url), 308);
    if (url.pathname.startsWith("/dashboard/")) {
      if (req.method !== "GET" && req.method !== "HEAD") return new Response("Method not allowed", { status: 405 });
      return file(url);
    }
    if (url.pathname.startsWith("/auth/v1/")) return auth(req, url);
    return null;
  };
}
