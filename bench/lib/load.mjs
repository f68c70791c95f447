// A closed-loop HTTP/1.1 load generator on raw keep-alive sockets: N connections, each with one
// request in flight at a time, sending pre-built request bytes and timing each answer from the
// first byte written to the last byte read. Raw sockets keep the generator's own cost per request
// to a few microseconds, which matters when generator, server and Postgres share two cores.
// No pipelining, no dependencies. Answers must carry Content-Length or chunked encoding.
import net from "node:net";

/**
 * Pre-encodes an HTTP/1.1 request.
 * @param {{ url: string, method?: string, headers?: Record<string,string>, body?: string }} request
 */
export function encodeRequest({ url, method = "POST", headers = {}, body = "" }) {
  const u = new URL(url);
  const bodyBytes = Buffer.from(body, "utf8");
  const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `host: ${u.host}`, "connection: keep-alive"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (method !== "GET" || bodyBytes.length) lines.push(`content-length: ${bodyBytes.length}`);
  return Buffer.concat([Buffer.from(`${lines.join("\r\n")}\r\n\r\n`, "latin1"), bodyBytes]);
}

const CRLFCRLF = Buffer.from("\r\n\r\n");

/** Parses one response off the front of `buf`; returns { status, length } or null if incomplete. */
function parseResponse(buf) {
  const headEnd = buf.indexOf(CRLFCRLF);
  if (headEnd < 0) return null;
  const head = buf.toString("latin1", 0, headEnd);
  const status = Number(head.slice(9, 12));
  const lower = head.toLowerCase();
  const bodyStart = headEnd + 4;
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
  if (cl) {
    const end = bodyStart + Number(cl[1]);
    return buf.length >= end ? { status, length: end, close: /\r\nconnection:\s*close/.test(lower) } : null;
  }
  if (/\r\ntransfer-encoding:\s*chunked/.test(lower)) {
    let at = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", at, "latin1");
      if (lineEnd < 0) return null;
      const size = parseInt(buf.toString("latin1", at, lineEnd), 16);
      const next = lineEnd + 2 + size + 2;
      if (buf.length < next) return null;
      if (size === 0) return { status, length: next, close: /\r\nconnection:\s*close/.test(lower) };
      at = next;
    }
  }
  if (status === 204 || status === 304 || (status >= 100 && status < 200)) return { status, length: bodyStart, close: false };
  throw new Error(`response without content-length or chunked encoding (status ${status})`);
}

/**
 * Runs the load and returns figures.
 * @param {object} o
 * @param {string} o.url                    where to connect (host and port are used)
 * @param {(i: number) => Buffer | null} o.next   the i-th request's bytes; null ends the run early
 * @param {number} [o.connections=64]
 * @param {number} [o.durationMs=10000]     no new request is sent after this
 * @param {number} [o.timeoutMs=10000]      a request unanswered this long counts as an error
 */
export async function runLoad({ url, next, connections = 64, durationMs = 10_000, timeoutMs = 10_000 }) {
  const { hostname, port } = new URL(url);
  const latencies = [];
  const statuses = new Map();
  let errors = 0;
  let sent = 0;
  let exhausted = false;
  const started = performance.now();
  const deadline = started + durationMs;
  let lastDone = started;

  const worker = () =>
    new Promise((resolve) => {
      let socket;
      let buffer = Buffer.alloc(0);
      let t0 = 0;
      let timer = null;
      const finish = () => {
        clearTimeout(timer);
        socket?.destroy();
        resolve();
      };
      const send = () => {
        if (exhausted || performance.now() >= deadline) return finish();
        const request = next(sent);
        if (!request) {
          exhausted = true;
          return finish();
        }
        sent += 1;
        t0 = performance.now();
        timer = setTimeout(() => {
          errors += 1;
          reconnect();
        }, timeoutMs);
        socket.write(request);
      };
      const reconnect = () => {
        clearTimeout(timer);
        socket?.destroy();
        buffer = Buffer.alloc(0);
        if (exhausted || performance.now() >= deadline) return finish();
        connect();
      };
      const connect = () => {
        socket = net.connect({ host: hostname, port: Number(port), noDelay: true });
        socket.on("connect", send);
        socket.on("data", (chunk) => {
          buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
          let parsed;
          try {
            parsed = parseResponse(buffer);
          } catch {
            errors += 1;
            return reconnect();
          }
          if (!parsed) return;
          const now = performance.now();
          clearTimeout(timer);
          latencies.push(now - t0);
          statuses.set(parsed.status, (statuses.get(parsed.status) ?? 0) + 1);
          lastDone = now;
          buffer = buffer.subarray(parsed.length);
          if (parsed.close) reconnect();
          else send();
        });
        socket.on("error", () => {
          errors += 1;
          reconnect();
        });
      };
      connect();
    });

  await Promise.all(Array.from({ length: connections }, worker));
  const elapsedMs = lastDone - started;
  return summarize({ latencies, statuses, errors, elapsedMs, connections });
}

function summarize({ latencies, statuses, errors, elapsedMs, connections }) {
  const sorted = Float64Array.from(latencies).sort();
  const pct = (p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
  return {
    requests: sorted.length,
    errors,
    statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
    elapsedMs,
    connections,
    rps: sorted.length / (elapsedMs / 1000),
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
    /** Share of answers that took at most `ms`. */
    within: (ms) => {
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid] <= ms) lo = mid + 1;
        else hi = mid;
      }
      return sorted.length ? lo / sorted.length : NaN;
    },
  };
}
