// A local stand-in for Meta's Graph API template endpoint, for tests, benchmarks and developers: real
// HTTP speaking POST /<version>/<WABA_ID>/message_templates as Meta documents it ("Template
// fundamentals", "Template management"; ../shared/reference/whatsapp.md §1.1, §1.10).
//
//   const graph = await startGraphServer({ token: "EAAG...", wabaId: "102290129340398" });
//   // WHATSAPP_GRAPH_URL=graph.url (ends in /v21.0)
//   graph.requests        // [{ method, path, headers, body }] in order
//   graph.failNext({ status: 500 })  // the next create answers this instead (status, body?)
//   await graph.close();
// createTemplateEndpoint() is the same endpoint without a server (graph-api.mjs mounts it).
//
// Behaviour, as Meta's:
//   * Authorization: Bearer <token> must match, else 401 with code 190 (OAuthException).
//   * A WABA id other than `wabaId` is 400 code 100, subcode 33 (object does not exist).
//   * A name that is not ^[a-z0-9_]{1,512}$ is 400 code 100 subcode 2388046 "Invalid parameter".
//   * A category not MARKETING/UTILITY/AUTHENTICATION or no components: 400 code 100 "Invalid parameter".
//   * The same name and language twice: 400 code 100 subcode 2388024 "Content in This Language Already Exists".
//   * Otherwise 200 {"id": "<digits>", "status": "PENDING", "category": "<CATEGORY>"}.
import { createServer } from "node:http";

const VERSION = "v21.0";

function metaError(status, code, message, extra = {}) {
  return {
    status,
    body: { error: { message, type: "OAuthException", code, fbtrace_id: "AbCdEfGhIjK", ...extra } },
  };
}

/**
 * The message_templates endpoint without a server, so that another stand-in (graph-api.mjs, which
 * `npm start` runs) can serve it too: handle(method, pathname, authorization, rawBody) answers
 * {status, body} for POST /<version>/<WABA_ID>/message_templates, or null for any other path.
 */
export function createTemplateEndpoint(options = {}) {
  const token = options.token ?? "EAAG-local-test-token-0123456789";
  const wabaId = options.wabaId ?? "102290129340398";
  const templates = new Map();
  const requests = [];
  const forced = [];
  let nextId = 546151681022936n;

  function create(body) {
    if (!body || typeof body !== "object") return metaError(400, 100, "Invalid parameter");
    const name = body.name;
    if (typeof name !== "string" || !/^[a-z0-9_]{1,512}$/.test(name)) {
      return metaError(400, 100, "Invalid parameter", {
        error_subcode: 2388046, is_transient: false, error_user_title: "Name Format is Incorrect",
        error_user_msg: "The message template name can only have lowercase letters and underscores.",
        error_data: { blame_field_specs: [["name"]] },
      });
    }
    const category = String(body.category ?? "").toUpperCase();
    if (!["MARKETING", "UTILITY", "AUTHENTICATION"].includes(category) || !Array.isArray(body.components) || body.components.length === 0) {
      return metaError(400, 100, "Invalid parameter", { error_user_title: "Invalid parameter", error_user_msg: "Invalid category or components" });
    }
    const key = `${name}:${body.language}`;
    if (templates.has(key)) {
      return metaError(400, 100, "Invalid parameter", {
        error_subcode: 2388024, is_transient: false, error_user_title: "Content in This Language Already Exists",
        error_user_msg: "There is already English (US) content for this template. You can create a new template and try again.",
      });
    }
    const id = String(nextId++);
    templates.set(key, { id, body });
    return { status: 200, body: { id, status: "PENDING", category } };
  }

  return {
    token,
    wabaId,
    templates,
    requests,
    failNext(answer) {
      forced.push(answer);
    },
    handle(method, pathname, authorization, raw) {
      const m = /^\/v[0-9.]+\/([^/]+)\/message_templates$/.exec(pathname);
      if (!m) return null;
      let body = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = null;
      }
      requests.push({ method, path: pathname, headers: { authorization }, body });
      if (method !== "POST") return metaError(400, 100, "Unsupported request");
      if (forced.length > 0) {
        const answer = forced.shift();
        return { status: answer.status, body: answer.body ?? metaError(answer.status, 1, "An unknown error occurred").body };
      }
      if (authorization !== `Bearer ${token}`) return metaError(401, 190, "Invalid OAuth access token - Cannot parse access token");
      if (decodeURIComponent(m[1]) !== wabaId) return metaError(400, 100, "Unsupported post request. Object does not exist", { error_subcode: 33 });
      if (body === null) return metaError(400, 100, "Invalid parameter");
      return create(body);
    },
  };
}

export async function startGraphServer(options = {}) {
  const endpoint = createTemplateEndpoint(options);
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      const url = new URL(req.url ?? "/", "http://localhost");
      const answer = endpoint.handle(req.method, url.pathname, req.headers.authorization, raw) ??
        metaError(400, 100, "Unsupported request");
      // The full request, headers included, for tests.
      if (endpoint.requests.length > 0) endpoint.requests.at(-1).headers = req.headers;
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/${VERSION}`,
    token: endpoint.token,
    wabaId: endpoint.wabaId,
    requests: endpoint.requests,
    templates: endpoint.templates,
    failNext: endpoint.failNext,
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// Run by hand: `node scripts/stand-ins/whatsapp-graph.mjs [port]` serves the stand-in alone (default
// port 54330), with the WABA id and token of the demo organisation's seed row. `npm start`'s own Graph
// API stand-in (graph-api.mjs) serves the same endpoint, so this is only needed with your own
// WHATSAPP_GRAPH_URL setup.
if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? 54330);
  const graph = await startGraphServer({ port });
  console.log(`Graph API stand-in: WHATSAPP_GRAPH_URL=${graph.url} (WABA ${graph.wabaId})`);
}
