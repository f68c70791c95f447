// A local stand-in for the parts of Zoho that Switchboard calls, on one port:
//
//   POST /oauth/v2/token                                   accounts: grant_type=refresh_token (form)
//   POST /api/v2/{screen}/callbacks/{request_id}/response  SalesIQ: the answer to a 'pending' reply
//   POST /api/v2/{screen}/callbacks/{request_id}/progress  SalesIQ: a progress message
//   PUT  /api/v2/{screen}/conversations/{id}/close         SalesIQ: close a chat
//   GET  /api/v1/contacts/search?phone|mobile|email|id     Desk: 200 {"data": [...]} or 204 when none
//   POST /api/v1/contacts                                  Desk: lastName required (422 otherwise)
//   POST /api/v1/calls                                     Desk: departmentId, contactId, subject, startTime
//                                                          (yyyy-MM-ddTHH:mm:ss.SSSZ), direction, duration, status
//   GET  /api/v1/calls?departmentId&from&limit             Desk: the calls, newest first
//
// Behaviour as the references describe it (shared/reference/zoho-knowledge-dashboard-templates.md):
// `Authorization: Zoho-oauthtoken <token>`; Desk also needs the `orgId` header; an expired or unknown
// token is 401 (Desk: {"errorCode": "INVALID_OAUTH"}), or, with invalidTokenStatus 400, a 400 with
// that body (what the replaced system saw); a refused refresh is HTTP 200 {"error": "invalid_code"};
// more than 10 refreshes in 10 minutes is 200 {"error": "Access Denied"}. Knobs for tests: expire
// tokens, make refreshes slow or fail, make the next requests to a path answer 429/5xx, or drop the
// answer of a call creation after creating it (the caller times out: an outcome it never learns).
// GET /_state shows everything received (what `npm start` prints). Never deployed.
import http from "node:http";
import { randomUUID } from "node:crypto";

/** The OAuth clients `npm start` registers with the stand-in (worthless anywhere else). */
export const LOCAL_ZOHO_CLIENTS = {
  salesiq: { clientId: "1000.LOCALSALESIQ", clientSecret: "local-salesiq-secret", refreshToken: "1000.local.salesiq.refresh" },
  desk: { clientId: "1000.LOCALDESK", clientSecret: "local-desk-secret", refreshToken: "1000.local.desk.refresh" },
  deskOrgId: "60000000001",
};

const DESK_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * @param {{ port?: number, host?: string, clients?: Array<{clientId: string, clientSecret: string, refreshToken: string}>,
 *           tokenTtlSeconds?: number, invalidTokenStatus?: 400 | 401, deskOrgId?: string,
 *           onEvent?: (event: {kind: string, [k: string]: unknown}) => void }} options
 */
export async function startZohoStandIn(options = {}) {
  const clients = new Map((options.clients ?? []).filter((c) => c && c.refreshToken).map((c) => [c.refreshToken, c]));
  const tokens = new Map(); // token → expiresAt (ms)
  const state = {
    refreshes: [],
    refreshAttempts: 0,
    salesiq: [], // {kind: 'response'|'progress'|'close', screen, id, body}
    contacts: [],
    calls: [],
    requests: [],
  };
  let ttl = options.tokenTtlSeconds ?? 3600;
  let invalidTokenStatus = options.invalidTokenStatus ?? 401;
  let refreshDelayMs = 0;
  let refreshFailures = []; // 'invalid_code' | 500
  const failures = []; // {match: RegExp, status}
  let dropNextCallAnswer = 0;
  let counter = 1000;

  const emit = (event) => options.onEvent?.(event);
  const send = (res, status, body, headers = {}) => {
    if (status === 204) {
      res.writeHead(204, headers);
      res.end();
      return;
    }
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

  function issue() {
    const token = `1000.standin.${randomUUID().replaceAll("-", "")}`;
    tokens.set(token, Date.now() + ttl * 1000);
    return token;
  }

  function authorised(req) {
    const auth = req.headers.authorization ?? "";
    const token = auth.startsWith("Zoho-oauthtoken ") ? auth.slice(16) : "";
    const expires = tokens.get(token);
    return Boolean(token && expires && expires > Date.now());
  }

  function refresh(req, res, raw) {
    state.refreshAttempts += 1;
    const form = new URLSearchParams(raw);
    const answer = () => {
      const failure = refreshFailures.shift();
      if (failure === 500) return send(res, 500, { error: "internal" });
      if (failure) return send(res, 200, { error: failure });
      const client = clients.get(form.get("refresh_token") ?? "");
      if (form.get("grant_type") !== "refresh_token" || !client || client.clientId !== form.get("client_id") || client.clientSecret !== form.get("client_secret")) {
        return send(res, 200, { error: "invalid_code" });
      }
      const windowStart = Date.now() - 10 * 60_000;
      const recent = state.refreshes.filter((r) => r.refreshToken === client.refreshToken && r.at > windowStart).length;
      if (recent >= 10) return send(res, 200, { error: "Access Denied" });
      const token = issue();
      state.refreshes.push({ at: Date.now(), refreshToken: client.refreshToken, clientId: client.clientId });
      emit({ kind: "refresh", clientId: client.clientId });
      send(res, 200, { access_token: token, api_domain: "https://www.zohoapis.com", token_type: "Bearer", expires_in: ttl });
    };
    if (refreshDelayMs > 0) setTimeout(answer, refreshDelayMs);
    else answer();
  }

  function invalidToken(res, desk) {
    if (desk) return send(res, invalidTokenStatus, { errorCode: "INVALID_OAUTH", message: "The OAuth Token you provided is invalid." });
    return send(res, invalidTokenStatus, { error: { code: 1007, message: "Invalid OAuth token" } });
  }

  function salesiq(req, res, url, raw) {
    const m = /^\/api\/v2\/([^/]+)\/(callbacks\/([^/]+)\/(response|progress)|conversations\/([^/]+)\/(close|transfer))$/.exec(url.pathname);
    if (!m) return send(res, 404, { error: { code: 1001, message: "Invalid URL" } });
    if (!authorised(req)) return invalidToken(res, false);
    let body = {};
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      return send(res, 400, { error: { code: 1002, message: "Invalid JSON" } });
    }
    if (m[3]) {
      if (req.method !== "POST") return send(res, 405, { error: { code: 1003, message: "Method not allowed" } });
      if (m[4] === "response" && (typeof body.action !== "string" || !Array.isArray(body.replies))) {
        return send(res, 400, { error: { code: 1004, message: "action and replies are mandatory" } });
      }
      if (m[4] === "progress" && typeof body.text !== "string") return send(res, 400, { error: { code: 1004, message: "text is mandatory" } });
      const event = { kind: m[4], screen: decodeURIComponent(m[1]), id: decodeURIComponent(m[3]), body, at: Date.now() };
      state.salesiq.push(event);
      emit(event);
      return send(res, 200, { url: url.pathname, object: "callback", data: { status: "success" } });
    }
    if (req.method !== "PUT") return send(res, 405, { error: { code: 1003, message: "Method not allowed" } });
    const event = { kind: m[6], screen: decodeURIComponent(m[1]), id: decodeURIComponent(m[5]), body, at: Date.now() };
    state.salesiq.push(event);
    emit(event);
    return send(res, 200, { url: url.pathname, object: "conversation", data: { id: event.id, chat_status: { status_code: 2, state: 4, label: "Attended Online" } } });
  }

  function desk(req, res, url, raw) {
    if (!authorised(req)) return invalidToken(res, true);
    if (options.deskOrgId && req.headers.orgid !== options.deskOrgId) {
      return send(res, 400, { errorCode: "INVALID_DATA", message: "orgId header is missing or wrong" });
    }
    let body = {};
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(res, 400, { errorCode: "INVALID_DATA", message: "Invalid JSON" });
      }
    }
    const path = url.pathname;
    if (path === "/api/v1/contacts/search" && req.method === "GET") {
      const q = url.searchParams;
      const found = state.contacts.filter((c) =>
        (q.get("phone") && c.phone === q.get("phone")) || (q.get("mobile") && c.mobile === q.get("mobile")) ||
        (q.get("email") && c.email && c.email.toLowerCase() === q.get("email").toLowerCase()) || (q.get("id") && c.id === q.get("id")));
      if (!found.length) return send(res, 204);
      return send(res, 200, { data: found.slice(0, Number(q.get("limit") ?? 10)), count: found.length });
    }
    if (path === "/api/v1/contacts" && req.method === "POST") {
      if (typeof body.lastName !== "string" || !body.lastName.trim()) {
        return send(res, 422, { errorCode: "UNPROCESSABLE_ENTITY", message: "lastName is required" });
      }
      const contact = { id: String(++counter) + "000000000", ...body, createdTime: new Date().toISOString() };
      state.contacts.push(contact);
      emit({ kind: "contact", contact });
      return send(res, 200, contact);
    }
    if (path === "/api/v1/calls" && req.method === "POST") {
      const missing = ["departmentId", "contactId", "subject", "startTime", "direction", "duration", "status"].filter((k) => body[k] === undefined || body[k] === null || body[k] === "");
      if (missing.length) return send(res, 422, { errorCode: "UNPROCESSABLE_ENTITY", message: `missing ${missing.join(", ")}` });
      if (!DESK_TIME.test(String(body.startTime))) return send(res, 422, { errorCode: "UNPROCESSABLE_ENTITY", message: "startTime must be yyyy-MM-ddTHH:mm:ss.SSSZ" });
      if (String(body.subject).length > 300 || !["inbound", "outbound"].includes(body.direction) || !Number.isInteger(body.duration)) {
        return send(res, 422, { errorCode: "UNPROCESSABLE_ENTITY", message: "invalid subject, direction or duration" });
      }
      if (!state.contacts.some((c) => c.id === String(body.contactId))) return send(res, 422, { errorCode: "UNPROCESSABLE_ENTITY", message: "no such contact" });
      const call = { id: String(++counter) + "000000001", ...body, webUrl: `https://desk.zoho.com/support/calls/${counter}`, createdTime: new Date().toISOString() };
      state.calls.push(call);
      emit({ kind: "call", call });
      if (dropNextCallAnswer > 0) {
        // Created, but the caller never hears it: no answer until the caller has given up.
        dropNextCallAnswer -= 1;
        setTimeout(() => req.socket.destroy(), 5000).unref?.();
        return;
      }
      return send(res, 200, call);
    }
    if (path === "/api/v1/calls" && req.method === "GET") {
      const q = url.searchParams;
      const list = state.calls.filter((c) => !q.get("departmentId") || String(c.departmentId) === q.get("departmentId")).slice().reverse();
      const from = Number(q.get("from") ?? 0);
      const page = list.slice(from, from + Number(q.get("limit") ?? 10));
      if (!page.length) return send(res, 204);
      return send(res, 200, { data: page });
    }
    return send(res, 404, { errorCode: "URL_NOT_FOUND", message: "The URL you have requested is not found" });
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    let raw = "";
    req.setEncoding("utf8");
    req.on("data", (c) => (raw += c));
    req.on("end", () => {
      if (url.pathname === "/_state") return send(res, 200, state);
      state.requests.push({ method: req.method, path: url.pathname, at: Date.now() });
      const failure = failures.findIndex((f) => f.match.test(url.pathname) && f.count > 0);
      if (failure >= 0 && url.pathname !== "/oauth/v2/token") {
        const f = failures[failure];
        f.count -= 1;
        return send(res, f.status, f.status === 429 ? { errorCode: "TOO_MANY_REQUESTS", message: "Too many requests" } : { errorCode: "INTERNAL_SERVER_ERROR" },
          f.status === 429 ? { "retry-after": "1" } : {});
      }
      if (url.pathname === "/oauth/v2/token" && req.method === "POST") return refresh(req, res, raw);
      if (url.pathname.startsWith("/api/v2/")) return salesiq(req, res, url, raw);
      if (url.pathname.startsWith("/api/v1/")) return desk(req, res, url, raw);
      send(res, 404, { error: "not found" });
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const { port } = server.address();
  const base = `http://${options.host ?? "127.0.0.1"}:${port}`;
  return {
    /** ZOHO_ACCOUNTS_URL, SALESIQ_API_URL and DESK_API_URL: all the same server. */
    url: base,
    state,
    /** Registers an OAuth client; returns a valid access token for it. */
    addClient(client) {
      clients.set(client.refreshToken, client);
      return issue();
    },
    /** A valid access token (as if issued earlier). */
    issueToken: () => issue(),
    /** Every access token issued so far stops working. */
    expireAll() {
      for (const t of tokens.keys()) tokens.set(t, 0);
    },
    setTokenTtl(seconds) {
      ttl = seconds;
    },
    setInvalidTokenStatus(status) {
      invalidTokenStatus = status;
    },
    setRefreshDelay(ms) {
      refreshDelayMs = ms;
    },
    /** The next refreshes fail: 'invalid_code' (HTTP 200 with an error) or 500. */
    failRefresh(...outcomes) {
      refreshFailures.push(...outcomes);
    },
    /** The next `count` requests whose path matches answer `status`. */
    failNext(match, status = 429, count = 1) {
      failures.push({ match, status, count });
    },
    /** The next call creation succeeds in Desk, but its answer never reaches the caller. */
    dropNextCallAnswer() {
      dropNextCallAnswer += 1;
    },
    reset() {
      state.refreshes.length = 0;
      state.refreshAttempts = 0;
      state.salesiq.length = 0;
      state.contacts.length = 0;
      state.calls.length = 0;
      state.requests.length = 0;
      refreshFailures = [];
      failures.length = 0;
      dropNextCallAnswer = 0;
      refreshDelayMs = 0;
      invalidTokenStatus = options.invalidTokenStatus ?? 401;
      ttl = options.tokenTtlSeconds ?? 3600;
    },
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
