// Who is calling the builder, and for which organisation.
//
//   * With SUPABASE_JWT_SECRET set: `Authorization: Bearer <Supabase JWT>`, verified with jose (HS256,
//     expiry checked). A user's organisation is their membership (org_members); a user in several
//     sends `x-org-id` to pick one. A service-role JWT must name the organisation in `x-org-id`.
//   * Without it, locally only: every caller acts for the demo organisation (the seed's
//     00000000-0000-4000-8000-000000000001), so `npm start` works with no keys. The handler refuses
//     this mode when SUPABASE_URL points at a hosted project (fail closed, not open).
import { errors as joseErrors, jwtVerify } from "jose";
import type { Sql } from "../db/client.ts";
import { AppError } from "../http/errors.ts";

export const DEMO_ORG_ID = "00000000-0000-4000-8000-000000000001";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface Caller {
  orgId: string;
  userId: string | null;
  via: "jwt" | "service_role" | "demo";
}

const unauthorized = (message: string) =>
  new AppError("UNAUTHORIZED", 401, message, { "www-authenticate": 'Bearer realm="template-builder"' });

export function createCallerResolver(options: { sql: Sql; jwtSecret: string | null; demoOrgId?: string }) {
  const key = options.jwtSecret ? new TextEncoder().encode(options.jwtSecret) : null;
  const demo = options.demoOrgId ?? DEMO_ORG_ID;
  return async function resolveCaller(req: Request): Promise<Caller> {
    if (!key) return { orgId: demo, userId: null, via: "demo" };
    const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec((req.headers.get("authorization") ?? "").trim());
    if (!m) throw unauthorized("A Supabase access token is required (Authorization: Bearer <jwt>)");
    let claims: Record<string, unknown>;
    try {
      ({ payload: claims } = await jwtVerify(m[1], key, { algorithms: ["HS256"] }));
    } catch (error) {
      throw unauthorized(error instanceof joseErrors.JWTExpired ? "The access token has expired" : "The access token is not valid");
    }
    const requested = req.headers.get("x-org-id")?.trim() || null;
    if (requested !== null && !UUID.test(requested)) throw new AppError("BAD_REQUEST", 400, "x-org-id must be an organisation id");
    if (claims.role === "service_role") {
      if (!requested) throw new AppError("BAD_REQUEST", 400, "A service-role caller names the organisation in x-org-id");
      return { orgId: requested.toLowerCase(), userId: null, via: "service_role" };
    }
    const sub = typeof claims.sub === "string" && UUID.test(claims.sub) ? claims.sub : null;
    if (!sub || claims.role !== "authenticated") throw new AppError("FORBIDDEN", 403, "Sign in as a member of an organisation");
    const rows = await options.sql<{ org_id: string }[]>`
      select org_id from public.org_members where user_id = ${sub} order by created_at limit 50`;
    const orgs = rows.map((r) => r.org_id);
    if (requested) {
      if (!orgs.includes(requested.toLowerCase())) throw new AppError("FORBIDDEN", 403, "You are not a member of that organisation");
      return { orgId: requested.toLowerCase(), userId: sub, via: "jwt" };
    }
    if (orgs.length === 1) return { orgId: orgs[0], userId: sub, via: "jwt" };
    if (orgs.length === 0) throw new AppError("FORBIDDEN", 403, "You are not a member of any organisation");
    throw new AppError("BAD_REQUEST", 400, "You belong to several organisations: name one in x-org-id");
  };
}
