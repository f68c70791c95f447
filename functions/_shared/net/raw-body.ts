// The request body as bytes, read once with a size limit: HMAC signatures are checked over exactly
// these bytes (text decoding could replace invalid UTF-8 and change them). Then decoded strictly.
import { AppError } from "../http/errors.ts";

export async function readRawBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && /^[0-9]+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    throw new AppError("PAYLOAD_TOO_LARGE", 413, `Body larger than ${maxBytes} bytes`);
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new AppError("PAYLOAD_TOO_LARGE", 413, `Body larger than ${maxBytes} bytes`);
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

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

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
