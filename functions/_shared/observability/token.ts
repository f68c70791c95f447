// Bearer-token protection for operational endpoints (/metrics, /health/detailed). Fails closed: with
// no token configured the endpoint answers 503 NOT_CONFIGURED, never the data. Tokens are compared
// as SHA-256 digests in constant time, so neither their content nor their length leaks through timing.
import { AppError } from "../http/errors.ts";
import { timingSafeEqual, utf8 } from "../signatures/encoding.ts";

export const MIN_TOKEN_LENGTH = 16;

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", utf8(text) as BufferSource));
}

export async function requireBearerToken(
  req: Request,
  expected: string | undefined,
  what: string,
  setting = "METRICS_TOKEN",
): Promise<void> {
  if (!expected || expected.length < MIN_TOKEN_LENGTH) {
    throw new AppError("NOT_CONFIGURED", 503, `${what} is disabled: set ${setting} (${MIN_TOKEN_LENGTH}+ characters)`);
  }
  const header = req.headers.get("authorization") ?? "";
  const match = /^Bearer ([\x21-\x7e]{1,512})$/.exec(header.trim());
  const ok = match !== null && timingSafeEqual(await digest(match[1]), await digest(expected));
  if (!ok) {
    throw new AppError("UNAUTHORIZED", 401, "A valid bearer token is required", {
      "www-authenticate": 'Bearer realm="switchboard"',
    });
  }
}
