// A local stand-in for Meta's Graph API template endpoint, for tests, benchmarks and developers: real
// HTTP speaking POST /<version>/<WABA_ID>/message_templates as Meta documents it ("Template
// fundamentals", "Template management"; ../shared/reference/whatsapp.md §1.1, §1.10).
//
//   const graph = await startGraphServer({ token: "EAAG...", wabaId: "102290129340398" });
//   // WHATSAPP_GRAPH_URL=graph.url (ends in /v21.0)
//   graph.requests        // [{ method, path, headers, body }] in order
//   graph.failNext({ status: 500 })  // the next create answers this instead (status, body?)
//   await graph.close();
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

export async function startGraphServer(options = {}) {
  const token = options.token ?? "EAAG-local-test-token-0123456789";
  const wabaId = options.wabaId ?? "102290129340398";
  const templates = new Map();
  const requests = [];
  let nextId = 546151681022936n;
  const forced = [];

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

  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8");
      let body = null;
      try {
        body = raw ? JSON.parse(raw) : null;
      } catch {
        body = null;
      }
      const url = new URL(req.url ?? "/", "http://localhost");
      requests.push({ method: req.method, path: url.pathname, headers: req.headers, body });
      let answer;
      const m = new RegExp(`^/${VERSION.replace(".", "\\.")}/([^/]+)/message_templates$`).exec(url.pathname);
      if (!m || req.method !== "POST") answer = metaError(400, 100, "Unsupported request");
      else if (forced.length > 0) answer = forced.shift();
      else if (req.headers.authorization !== `Bearer ${token}`) answer = metaError(401, 190, "Invalid OAuth access token - Cannot parse access token");
      else if (decodeURIComponent(m[1]) !== wabaId) answer = metaError(400, 100, "Unsupported post request. Object does not exist", { error_subcode: 33 });
      else if (body === null) answer = metaError(400, 100, "Invalid parameter");
      else answer = create(body);
      const payload = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? metaError(answer.status, 1, "An unknown error occurred").body);
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(payload);
    });
  });
  await new Promise((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/${VERSION}`,
    token,
    wabaId,
    requests,
    templates,
    failNext(answer) {
      forced.push(answer);
    },
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// Run by hand: `node scripts/stand-ins/whatsapp-graph.mjs [port]` serves the stand-in (default port
// 54330) for `WHATSAPP_GRAPH_URL=http://127.0.0.1:54330/v21.0 npm start`, with the WABA id and token
// of the demo organisation's seed row.
if (import.meta.url === `file://${process.argv[1]}`) {
  const port = Number(process.argv[2] ?? 54330);
  const graph = await startGraphServer({ port });
  console.log(`Graph API stand-in: WHATSAPP_GRAPH_URL=${graph.url} (WABA ${graph.wabaId})`);
}
