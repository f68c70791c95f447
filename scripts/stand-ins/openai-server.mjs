// A local OpenAI-compatible server for tests, benchmarks and developers: real HTTP, speaking the
// Chat Completions, Embeddings and Models endpoints as OpenAI documents them (API reference and the
// openai-node SDK's types), so the real `openai` SDK can be pointed at it with OPENAI_BASE_URL.
//
//   const llm = await startOpenAiServer({ apiKey: "test-key", respond: (req) => ({ text: "Hi!" }) });
//   // OPENAI_BASE_URL=llm.url (ends in /v1), OPENAI_API_KEY=test-key
//   llm.setResponder((req) => ({ toolCalls: [{ name: "request_human", arguments: { reason: "asked" } }] }));
//   llm.requests  // [{ method, path, headers, body }] for every request received, in order
//   await llm.close();
//
// The responder gets the parsed request body and { endpoint: "chat" | "embeddings", index } and
// returns (or resolves to) one reply:
//   { text }                           an assistant message (finish_reason "stop")
//   { toolCalls: [{ name, arguments, id? }], text? }   tool calls (arguments: object or raw string)
//   { json: object }                   structured output: the object serialised as the content
//   { raw: "not json" }                content given verbatim (e.g. invalid JSON for structured output)
//   { refusal: "..." }                 a refusal (message.refusal, content null)
//   { status, body?, headers? }        an HTTP answer as given: body (object → JSON, string → as is)
//                                      defaults to OpenAI's error envelope for that status
//   { hang: true }                     never answers (until the client gives up or close())
// plus, on any of them: delayMs (before the first byte), chunkDelayMs (between streamed chunks),
// finishReason, usage ({ prompt_tokens, completion_tokens }) to override the estimates.
// For embeddings only status/hang/delayMs are honoured; vectors are always standInEmbedding().
//
// Streaming (`"stream": true`) sends server-sent events in OpenAI's chunk format: a first chunk with
// the role, content split over several chunks, each tool call opened by a chunk carrying its index,
// id, type and name with empty arguments and continued by chunks carrying only its index and a slice
// of the arguments, a last chunk with the finish_reason, a usage chunk (empty choices) when
// stream_options.include_usage is set, and `data: [DONE]`.
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";

const DEFAULT_MODEL = "gpt-4o-mini";
const DEFAULT_EMBEDDING_MODEL = "text-embedding-3-small";
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** Deterministic unit vector for a text: hashed bag of words (FNV-1a), signed buckets, L2-normalised. */
export function standInEmbedding(text, dimensions = 256) {
  const v = new Array(dimensions).fill(0);
  const words = String(text).toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  for (const word of words) {
    let h = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) {
      h ^= word.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    v[h % dimensions] += h & 0x80000000 ? -1 : 1;
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  if (norm === 0) {
    v[0] = 1;
    return v;
  }
  return v.map((x) => x / norm);
}

const ERRORS = {
  400: { type: "invalid_request_error", code: null, message: "Invalid request." },
  401: { type: "invalid_request_error", code: "invalid_api_key", message: "Incorrect API key provided." },
  403: { type: "invalid_request_error", code: "unsupported_country_region_territory", message: "Forbidden." },
  404: { type: "invalid_request_error", code: "model_not_found", message: "The model does not exist." },
  429: { type: "requests", code: "rate_limit_exceeded", message: "Rate limit reached for requests." },
  500: { type: "server_error", code: null, message: "The server had an error while processing your request." },
  503: { type: "server_error", code: null, message: "The engine is currently overloaded, please try again later." },
};

function errorEnvelope(status, message) {
  const e = ERRORS[status] ?? (status >= 500 ? ERRORS[500] : ERRORS[400]);
  return { error: { message: message ?? e.message, type: e.type, param: null, code: e.code } };
}

/** Rough token count (4 characters a token), enough for usage figures. */
function estimateTokens(text) {
  return Math.ceil(String(text ?? "").length / 4);
}

function promptTokens(body) {
  let n = 0;
  for (const m of Array.isArray(body?.messages) ? body.messages : []) {
    n += 4 + estimateTokens(typeof m?.content === "string" ? m.content : JSON.stringify(m?.content ?? ""));
  }
  if (Array.isArray(body?.tools)) n += estimateTokens(JSON.stringify(body.tools));
  return n;
}

/** Splits a string into pieces of about `size` characters (at least one piece, maybe empty). */
function slices(text, size) {
  if (text.length === 0) return [];
  const out = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function defaultResponder(body) {
  const last = [...(body?.messages ?? [])].reverse().find((m) => m?.role === "user");
  const said = typeof last?.content === "string" ? last.content : "";
  return { text: said ? `You said: ${said}` : "Hello from the local model." };
}

/** The assistant message, finish reason and completion text a reply describes. */
function assistantOf(reply) {
  const toolCalls = (reply.toolCalls ?? []).map((c, i) => ({
    id: c.id ?? `call_${randomUUID().replaceAll("-", "").slice(0, 24)}`,
    type: "function",
    function: { name: c.name, arguments: typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments ?? {}) },
    index: i,
  }));
  let content = null;
  if (reply.json !== undefined) content = JSON.stringify(reply.json);
  else if (reply.raw !== undefined) content = String(reply.raw);
  else if (reply.text !== undefined) content = String(reply.text);
  const refusal = reply.refusal !== undefined ? String(reply.refusal) : null;
  const finishReason = reply.finishReason ?? (toolCalls.length > 0 ? "tool_calls" : "stop");
  const completionText = (content ?? "") + (refusal ?? "") + toolCalls.map((c) => c.function.name + c.function.arguments).join("");
  return { content, refusal, toolCalls, finishReason, completionText };
}

export async function startOpenAiServer(options = {}) {
  const { port = 0, host = "127.0.0.1", apiKey, model: defaultModel = DEFAULT_MODEL, embeddingDimensions = 256 } = options;
  let responder = options.respond ?? defaultResponder;
  const requests = [];
  let index = 0;

  function send(res, status, payload, headers = {}) {
    const body = typeof payload === "string" ? payload : JSON.stringify(payload);
    res.writeHead(status, {
      "content-type": typeof payload === "string" ? "text/plain; charset=utf-8" : "application/json",
      "x-request-id": `req_${randomUUID().replaceAll("-", "")}`,
      ...headers,
    });
    res.end(body);
  }

  async function readBody(req) {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) throw Object.assign(new Error("too large"), { status: 413 });
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString("utf8");
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      throw Object.assign(new Error("We could not parse the JSON body of your request."), { status: 400 });
    }
  }

  /** Handles status / hang / delayMs; returns true when the reply has been dealt with. */
  async function common(reply, res) {
    if (reply.hang) {
      await new Promise((resolve) => res.on("close", resolve));
      return true;
    }
    if (reply.delayMs) await sleep(reply.delayMs);
    if (reply.status !== undefined && reply.status !== 200) {
      const body = reply.body === undefined ? errorEnvelope(reply.status) : reply.body;
      send(res, reply.status, body, reply.headers);
      return true;
    }
    if (reply.status === 200 && reply.body !== undefined) {
      send(res, 200, reply.body, reply.headers);
      return true;
    }
    return false;
  }

  async function chat(body, res, reply) {
    if (await common(reply, res)) return;
    const id = `chatcmpl-${randomUUID().replaceAll("-", "").slice(0, 24)}`;
    const created = Math.floor(Date.now() / 1000);
    const model = body.model ?? defaultModel;
    const a = assistantOf(reply);
    const usage = {
      prompt_tokens: reply.usage?.prompt_tokens ?? promptTokens(body),
      completion_tokens: reply.usage?.completion_tokens ?? estimateTokens(a.completionText),
    };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;

    if (!body.stream) {
      const message = { role: "assistant", content: a.content, refusal: a.refusal, annotations: [] };
      if (a.toolCalls.length > 0) message.tool_calls = a.toolCalls.map(({ index: _i, ...c }) => c);
      send(res, 200, {
        id,
        object: "chat.completion",
        created,
        model,
        system_fingerprint: "fp_standin",
        choices: [{ index: 0, message, logprobs: null, finish_reason: a.finishReason }],
        usage,
      }, reply.headers);
      return;
    }

    const includeUsage = body.stream_options?.include_usage === true;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-request-id": `req_${randomUUID().replaceAll("-", "")}`,
      ...reply.headers,
    });
    const chunk = (delta, finishReason = null) => ({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      system_fingerprint: "fp_standin",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(includeUsage ? { usage: null } : {}),
    });
    const events = [chunk({ role: "assistant", content: "", refusal: null })];
    for (const piece of slices(a.content ?? "", 7)) events.push(chunk({ content: piece }));
    for (const piece of slices(a.refusal ?? "", 7)) events.push(chunk({ refusal: piece }));
    for (const call of a.toolCalls) {
      events.push(chunk({
        tool_calls: [{ index: call.index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } }],
      }));
      for (const piece of slices(call.function.arguments, 5)) {
        events.push(chunk({ tool_calls: [{ index: call.index, function: { arguments: piece } }] }));
      }
    }
    events.push(chunk({}, a.finishReason));
    if (includeUsage) {
      events.push({ id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_standin", choices: [], usage });
    }
    for (const event of events) {
      if (res.destroyed) return;
      res.write(`data: ${JSON.stringify(event)}\n\n`);
      if (reply.chunkDelayMs) await sleep(reply.chunkDelayMs);
    }
    res.end("data: [DONE]\n\n");
  }

  async function embeddings(body, res, reply) {
    if (await common(reply, res)) return;
    const input = body.input;
    const texts = typeof input === "string"
      ? [input]
      : Array.isArray(input) && input.every((x) => typeof x === "string")
      ? input
      : Array.isArray(input) && input.every((x) => typeof x === "number")
      ? [input.join(" ")]
      : Array.isArray(input) && input.every((x) => Array.isArray(x))
      ? input.map((x) => x.join(" "))
      : null;
    if (!texts || texts.length === 0) {
      send(res, 400, errorEnvelope(400, "'input' must be a string or an array of strings or token arrays."));
      return;
    }
    const dims = Number.isInteger(body.dimensions) && body.dimensions > 0 ? body.dimensions : embeddingDimensions;
    const base64 = body.encoding_format === "base64";
    let tokens = 0;
    const data = texts.map((text, i) => {
      tokens += (String(text).match(/[\p{L}\p{N}]+/gu) ?? []).length;
      const vector = standInEmbedding(text, dims);
      const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector;
      return { object: "embedding", index: i, embedding };
    });
    send(res, 200, {
      object: "list",
      data,
      model: body.model ?? DEFAULT_EMBEDDING_MODEL,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname.replace(/\/+$/, "");
    let body = null;
    try {
      body = await readBody(req);
    } catch (error) {
      send(res, error.status ?? 400, errorEnvelope(error.status ?? 400, error.message));
      return;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]));
    requests.push({ method: req.method, path, headers, body });

    if (apiKey !== undefined && headers.authorization !== `Bearer ${apiKey}`) {
      send(res, 401, errorEnvelope(401, headers.authorization ? "Incorrect API key provided." : "You didn't provide an API key."));
      return;
    }
    try {
      if (req.method === "GET" && path === "/v1/models") {
        send(res, 200, {
          object: "list",
          data: [defaultModel, DEFAULT_EMBEDDING_MODEL].map((id) => ({ id, object: "model", created: 1700000000, owned_by: "switchboard" })),
        });
        return;
      }
      const endpoint = req.method === "POST" && path === "/v1/chat/completions"
        ? "chat"
        : req.method === "POST" && path === "/v1/embeddings"
        ? "embeddings"
        : null;
      if (!endpoint) {
        send(res, 404, errorEnvelope(404, `Unknown request URL: ${req.method} ${path}.`));
        return;
      }
      if (!body || typeof body !== "object" || Array.isArray(body)) {
        send(res, 400, errorEnvelope(400, "The request body must be a JSON object."));
        return;
      }
      if (endpoint === "chat" && (!Array.isArray(body.messages) || body.messages.length === 0)) {
        send(res, 400, errorEnvelope(400, "'messages' must be a non-empty array."));
        return;
      }
      const reply = (await responder(body, { endpoint, index: index++ })) ?? {};
      if (endpoint === "chat") await chat(body, res, reply);
      else await embeddings(body, res, reply);
    } catch (error) {
      if (!res.headersSent) send(res, 500, errorEnvelope(500, `stand-in responder failed: ${error?.message ?? error}`));
      else res.destroy();
    }
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${hostPart}:${address.port}/v1`,
    port: address.port,
    requests,
    setResponder(fn) {
      responder = fn ?? defaultResponder;
      index = 0;
    },
    async close() {
      server.closeAllConnections?.();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
