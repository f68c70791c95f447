// Agents authenticate with their Supabase Auth JWT, verified here with jose (the gateway's own JWT
// check is off for this function: EventSource cannot send an Authorization header, so the feed
// accepts the token as ?access_token=, which the gateway would refuse). HS256 tokens are checked
// against SUPABASE_JWT_SECRET; asymmetric ones (ES256/RS256) against the project's JWKS. A token
// must be unexpired, carry a user id (sub) and be for the `authenticated` role. Whether that user is
// an agent, and of which organisation, is the database's answer (support_agents), not the token's.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from "jose";
import { AppError } from "../http/errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKEN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface VerifiedClaims extends JWTPayload {
  sub: string;
  role: string;
}

export interface TokenVerifier {
  verify(token: string): Promise<VerifiedClaims>;
}

function unauthorized(message: string): AppError {
  return new AppError("UNAUTHORIZED", 401, message, { "www-authenticate": 'Bearer realm="agents"' });
}

export function createTokenVerifier(options: { secret?: string; jwksUrl?: string }): TokenVerifier {
  if (!options.secret && !options.jwksUrl) throw new Error("createTokenVerifier: a secret or a JWKS URL is required");
  const secret = options.secret ? new TextEncoder().encode(options.secret) : null;
  const jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 3000, cooldownDuration: 30_000 }) : null;
  return {
    async verify(token) {
      if (!TOKEN.test(token) || token.length > 8192) throw unauthorized("Malformed token");
      let alg: string | undefined;
      try {
        alg = decodeProtectedHeader(token).alg;
      } catch {
        throw unauthorized("Malformed token");
      }
      let payload: JWTPayload;
      try {
        if (alg === "HS256") {
          if (!secret) throw unauthorized("HS256 tokens are not accepted here");
          ({ payload } = await jwtVerify(token, secret, { algorithms: ["HS256"], requiredClaims: ["exp", "sub"] }));
        } else {
          if (!jwks) throw unauthorized("Asymmetric tokens are not accepted here");
          ({ payload } = await jwtVerify(token, jwks, { algorithms: ["ES256", "RS256", "EdDSA"], requiredClaims: ["exp", "sub"] }));
        }
      } catch (error) {
        if (error instanceof AppError) throw error;
        const code = (error as { code?: string })?.code;
        throw unauthorized(code === "ERR_JWT_EXPIRED" ? "Token expired" : "Invalid token");
      }
      if (typeof payload.sub !== "string" || !UUID.test(payload.sub)) throw unauthorized("Token has no user id");
      if (payload.role !== "authenticated") throw unauthorized("Token is not for a signed-in user");
      return payload as VerifiedClaims;
    },
  };
}

/** The token of a request: `Authorization: Bearer …`, or `?access_token=` when allowed (the feed). */
export function tokenOf(req: Request, allowQuery: boolean): string {
  const header = req.headers.get("authorization");
  if (header) {
    const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!m) throw unauthorized("Authorization must be: Bearer <token>");
    return m[1];
  }
  if (allowQuery) {
    const q = new URL(req.url).searchParams.get("access_token");
    if (q) return q;
  }
  throw unauthorized("A token is required (Authorization: Bearer <token>)");
}
