// Who calls the management API: the service role (Authorization: Bearer <SUPABASE_SERVICE_ROLE_KEY>,
// compared in constant time) or a supervisor with a Supabase user JWT (HS256, SUPABASE_JWT_SECRET,
// verified with jose; `sub` is the user, `role` must be "authenticated"). Small and self-contained on
// purpose: the agents' API has its own, and both will share one later.
import { jwtVerify } from "jose";
import { AppError } from "../http/errors.ts";
import { timingSafeEqual, utf8 } from "../signatures/encoding.ts";

export type Caller =
  | { kind: "service" }
  | { kind: "user"; userId: string; claims: Record<string, unknown> };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text) as BufferSource));
}

const unauthorized = (message: string) =>
  new AppError("UNAUTHORIZED", 401, message, { "www-authenticate": 'Bearer realm="switchboard"' });

export function createAuthenticator(options: { serviceRoleKey?: string | null; jwtSecret?: string | null }) {
  const jwtKey = options.jwtSecret ? utf8(options.jwtSecret) : null;
  const serviceDigest = options.serviceRoleKey ? digest(options.serviceRoleKey) : null;
  return async function authenticate(req: Request): Promise<Caller> {
    const match = /^Bearer ([\x21-\x7e]{1,4096})$/.exec((req.headers.get("authorization") ?? "").trim());
    if (!match) throw unauthorized("A bearer token is required (a supervisor's JWT or the service role key)");
    const token = match[1];
    if (serviceDigest && timingSafeEqual(await digest(token), await serviceDigest)) return { kind: "service" };
    if (!jwtKey || token.split(".").length !== 3) throw unauthorized("Invalid token");
    try {
      const { payload } = await jwtVerify(token, jwtKey, { algorithms: ["HS256"] });
      if (typeof payload.sub !== "string" || !UUID.test(payload.sub) || payload.role !== "authenticated") {
        throw new Error("not a user token");
      }
      return { kind: "user", userId: payload.sub.toLowerCase(), claims: payload as Record<string, unknown> };
    } catch {
      throw unauthorized("Invalid or expired token");
    }
  };
}
