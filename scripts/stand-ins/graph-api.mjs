// A local stand-in for Meta's Graph API, the part WhatsApp replies use:
//
//   POST /v21.0/{phone_number_id}/messages     (Authorization: Bearer <token>)
//
// answered as Meta documents it ({"messaging_product": "whatsapp", "contacts": [{"input", "wa_id"}],
// "messages": [{"id": "wamid..."}]}), with Meta's error envelope for a bad token (401, code 190) or a
// malformed body (400, code 100). Everything received is kept, for tests, the simulator and `npm start`
// (GET /_sent lists it; DELETE /_sent clears it). failNext(n, status) makes the next n sends fail.
// It also serves POST /v21.0/{waba_id}/message_templates (the template builder's submit) through
// whatsapp-graph.mjs's endpoint, for the demo organisation's seeded WABA id and token.
// Never deployed: it exists because Meta cannot be reached from here.
import http from "node:http";
import { randomUUID } from "node:crypto";
import { createTemplateEndpoint } from "./whatsapp-graph.mjs";

function graphError(res, status, code, message, type = "OAuthException") {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: { message, type, code, fbtrace_id: randomUUID().slice(0, 12) } }));
}

/**
 * @param {{ port?: number, host?: string, tokens?: string[] | null, onSend?: (sent: object) => void }} options
 */
export async function startGraphApi(options = {}) {
  const sent = [];
  const failures = [];
  let delayMs = 0;
  const tokens = options.tokens ?? null;
  const templateApi = createTemplateEndpoint(options.templates);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname === "/_sent") {
      if (req.method === "DELETE") sent.length = 0;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(req.method === "DELETE" ? [] : sent.filter((s) => !url.searchParams.get("to") || s.to === url.searchParams.get("to"))));
      return;
    }
    // Template creation (the template builder's submit), with the demo organisation's seeded WABA.
    if (/\/message_templates$/.test(url.pathname)) {
      let raw = "";
      req.setEncoding("utf8");
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        const answer = templateApi.handle(req.method ?? "GET", url.pathname, req.headers.authorization, raw);
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer.body));
      });
      return;
    }
    const match = /^\/v[0-9.]+\/([0-9]{5,32})\/messages$/.exec(url.pathname);
    if (!match || req.method !== "POST") {
      graphError(res, 404, 803, "Unknown path components", "GraphMethodException");
      return;
    }
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      const reply = () => {
        const auth = req.headers.authorization ?? "";
        const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
        if (!token || (tokens && !tokens.includes(token))) {
          graphError(res, 401, 190, "Invalid OAuth access token - Cannot parse access token");
          return;
        }
        const failure = failures.shift();
        if (failure) {
          if (failure.status >= 500 || failure.status === 429) {
            res.writeHead(failure.status, { "content-type": "application/json" });
            res.end(JSON.stringify({ error: { message: "Service temporarily unavailable", code: 2, type: "OAuthException" } }));
          } else {
            graphError(res, failure.status, failure.code ?? 100, failure.message ?? "Invalid parameter");
          }
          return;
        }
        let body;
        try {
          body = JSON.parse(raw);
        } catch {
          graphError(res, 400, 100, "Invalid JSON");
          return;
        }
        if (body?.messaging_product !== "whatsapp" || typeof body.to !== "string" || !["text", "interactive", "template"].includes(body.type)) {
          graphError(res, 400, 100, "(#100) Invalid parameter");
          return;
        }
        const wamid = `wamid.LOCAL${randomUUID().replaceAll("-", "").toUpperCase()}`;
        const record = { id: wamid, phone_number_id: match[1], to: body.to, type: body.type, body, received_at: new Date().toISOString() };
        sent.push(record);
        options.onSend?.(record);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({
          messaging_product: "whatsapp",
          contacts: [{ input: body.to, wa_id: body.to.replace(/^\+/, "") }],
          messages: [{ id: wamid }],
        }));
      };
      if (delayMs > 0) setTimeout(reply, delayMs);
      else reply();
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address();
  const host = options.host ?? "127.0.0.1";
  return {
    /** The WHATSAPP_GRAPH_URL to use. */
    url: `http://${host}:${port}/v21.0`,
    sent,
    /** The next n sends answer `status` (5xx/429 retryable; 4xx with Meta's error `code`). */
    failNext(n, status = 500, extra = {}) {
      for (let i = 0; i < n; i++) failures.push({ status, ...extra });
    },
    setDelay(ms) {
      delayMs = ms;
    },
    clear() {
      sent.length = 0;
      failures.length = 0;
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
