// Request bodies, read once with a size limit before any parsing: signatures are checked over exactly
// these bytes, never over re-serialised JSON or text that decoding may have changed.
import { AppError } from "./errors.ts";

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/** Reads a stream to its end, refusing (and cancelling it) past maxBytes with the error tooLarge() makes. */
export async function readStreamLimited(
  stream: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  tooLarge: () => AppError,
): Promise<Uint8Array> {
  if (!stream) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

const requestTooLarge = (maxBytes: number) => () =>
  new AppError("PAYLOAD_TOO_LARGE", 413, `Body larger than ${maxBytes} bytes`);

/** The body as bytes; 413 PAYLOAD_TOO_LARGE past maxBytes, declared or actual. */
export async function readRawBody(req: Request, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && /^[0-9]+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    throw requestTooLarge(maxBytes)();
  }
  return await readStreamLimited(req.body, maxBytes, requestTooLarge(maxBytes));
}

const lenientUtf8 = new TextDecoder("utf-8", { fatal: false });
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The body as text (invalid UTF-8 becomes U+FFFD, so a signature over it fails rather than throws). */
export async function readBody(req: Request, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<string> {
  return lenientUtf8.decode(await readRawBody(req, maxBytes));
}

/** UTF-8 text of a body; a body that is not valid UTF-8 is a 400 INVALID_JSON (JSON must be UTF-8). */
export function decodeUtf8Body(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new AppError("INVALID_JSON", 400, "Body is not valid UTF-8");
  }
}

/** Refuses anything but application/json (optionally with charset=utf-8) with 415. */
export function requireJsonContentType(req: Request): void {
  const type = req.headers.get("content-type");
  const ok = type !== null &&
    /^application\/json\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i.test(type.trim());
  if (!ok) throw new AppError("UNSUPPORTED_MEDIA_TYPE", 415, "Content-Type must be application/json");
}

/** Parses JSON, turning a syntax error into a 400 with a stable code. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("INVALID_JSON", 400, "Body is not valid JSON");
  }
}
