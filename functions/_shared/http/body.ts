// Request bodies, read once with a size limit before any parsing: signatures are checked over exactly
// these bytes, never over re-serialised JSON or text that decoding may have changed.
import { AppError } from "./errors.ts";

export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/**
 * How much of a request body we answer without reading (a 413, or any early 4xx/503) is still read
 * and dropped before the answer goes out, and for how long at most. Deno's HTTP server up to 2.8.2,
 * and with it Supabase's hosted runtime (Deno 2.1), closes the connection as soon as such an answer
 * is sent while the client is still sending; the client then gets a reset (EPIPE, ECONNRESET) instead
 * of the answer (denoland/deno#21209; measured in docs/deno-versions.md). A body declared larger than
 * this is not read at all: that client may still see the reset.
 */
export const DISCARD_MAX_BYTES = 2 * 1024 * 1024;
export const DISCARD_TIMEOUT_MS = 1000;

/** Reads and drops what a reader has left, up to DISCARD_MAX_BYTES and DISCARD_TIMEOUT_MS, then cancels it. */
export async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), DISCARD_TIMEOUT_MS);
  });
  let read = 0;
  try {
    while (read <= DISCARD_MAX_BYTES) {
      const next = reader.read();
      next.catch(() => {}); // may settle after the timeout won the race; cancel() below ends it
      const result = await Promise.race([next, timedOut]);
      if (result === "timeout" || result.done) break;
      read += result.value.byteLength;
    }
  } catch {
    // The client went away: nothing left to drop.
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
}

/**
 * Drops a request body the handler did not read (see DISCARD_MAX_BYTES for why), before its answer is
 * returned. No-op for a request without a body, or whose body was read, or declared too large.
 */
export async function discardUnreadBody(req: Request): Promise<void> {
  if (!req.body || req.bodyUsed || req.body.locked) return;
  const declared = req.headers.get("content-length");
  if (declared !== null && /^[0-9]+$/.test(declared.trim()) && Number(declared) > DISCARD_MAX_BYTES) return;
  await discardRest(req.body.getReader());
}

/**
 * Reads a stream to its end, refusing past maxBytes with the error tooLarge() makes; the rest of the
 * stream is then handed to onExcess (default: cancel it).
 */
export async function readStreamLimited(
  stream: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  tooLarge: () => AppError,
  onExcess: (reader: ReadableStreamDefaultReader<Uint8Array>) => Promise<void> = (reader) => reader.cancel(),
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
      await onExcess(reader).catch(() => {});
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

/**
 * The body as bytes; 413 PAYLOAD_TOO_LARGE past maxBytes, declared (before reading: instrumentHandler
 * drops the unread body) or actual (the rest is dropped here, within the same bounds).
 */
export async function readRawBody(req: Request, maxBytes = DEFAULT_MAX_BODY_BYTES): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && /^[0-9]+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    throw requestTooLarge(maxBytes)();
  }
  return await readStreamLimited(req.body, maxBytes, requestTooLarge(maxBytes), discardRest);
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
