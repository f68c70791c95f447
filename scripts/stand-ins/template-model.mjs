// A scripted "model" for the template builder, for the OpenAI-compatible stand-in
// (openai-server.mjs): it reads the builder's request as a model would (the state JSON in the system
// message, the user's last message) and answers with structured output in the builder's schema
// (ModelTurnSchema in functions/_shared/templates/llm-flow.ts). Deterministic, keyword-driven: enough
// to drive the LLM flow in tests, the benchmark and by hand, never a real model.
//
//   const llm = await startOpenAiServer({ apiKey: "k", respond: templateModelResponder });
const EMPTY = {
  name: null, category: null, language: null, business_type: null, body: null, body_examples: [],
  wants_header: null, header: null, wants_footer: null, footer: null, wants_buttons: null, buttons: [],
  code_expiration_minutes: null, add_security_recommendation: null,
};

/** The state the builder sent: {state, draft, memory, validator_errors}. */
export function builderState(body) {
  for (const m of body.messages ?? []) {
    if (m.role === "system" && typeof m.content === "string" && m.content.startsWith("Current state (JSON): ")) {
      return JSON.parse(m.content.slice("Current state (JSON): ".length));
    }
  }
  return { state: "gathering", draft: { ...EMPTY }, memory: {}, validator_errors: [] };
}

export function lastUserMessage(body) {
  const users = (body.messages ?? []).filter((m) => m.role === "user");
  return String(users.at(-1)?.content ?? "");
}

export function templateModelTurn(body) {
  const state = builderState(body);
  const draft = { ...EMPTY, ...state.draft };
  const text = lastUserMessage(body);
  const t = text.toLowerCase();
  if ((state.state === "review" || state.state === "final") && /^(confirm|yes|looks good|ok)\b/.test(t.trim())) {
    return { draft, reply: "Great, it's confirmed.", asks_for: [], user_confirmed: true };
  }
  if (/\b(remind|appointment)/.test(t)) {
    draft.category ??= "UTILITY";
    draft.name ??= "appointment_reminder";
    draft.business_type ??= "appointments";
  }
  if (/\butility\b/.test(t)) draft.category = "UTILITY";
  if (/\benglish\b|\ben_us\b/.test(t)) draft.language = "en_US";
  if (/\bspanish\b/.test(t)) draft.language = "es";
  if (/\bname\b.*\btime\b/.test(t)) {
    draft.body = "Hi {{1}}, this is a reminder of your appointment tomorrow at {{2}}. Reply below if you need to change it.";
    draft.body_examples = ["Maria", "10:30 AM"];
  }
  if (/button to reschedule|reschedule button/.test(t)) {
    draft.wants_buttons = true;
    draft.buttons = [{ type: "QUICK_REPLY", text: "Reschedule", url: null, example: null, phone_number: null }];
  }
  if (/no header|without (a )?header/.test(t)) draft.wants_header = false;
  if (/no footer|without (a )?footer|no header or footer/.test(t)) draft.wants_footer = false;
  if (/nothing else|that'?s all/.test(t)) {
    draft.wants_header ??= false;
    draft.wants_footer ??= false;
    draft.wants_buttons ??= false;
  }
  const asks = [];
  if (!draft.category || !draft.name) asks.push("category");
  if (!draft.language) asks.push("language");
  if (!draft.body) asks.push("body");
  if (draft.wants_header === null || draft.wants_footer === null || draft.wants_buttons === null) asks.push("wants_buttons");
  const questions = {
    category: "What is the message for?",
    language: "Which language should it be in?",
    body: "What should it say, and which details of the customer go in it?",
    wants_buttons: "Do you want a header, a footer or buttons?",
  };
  const reply = asks.length ? asks.slice(0, 2).map((a) => questions[a]).join(" ") : "I have everything I need.";
  return { draft, reply, asks_for: asks.slice(0, 2), user_confirmed: false };
}

/** The responder for startOpenAiServer: structured output for builder requests, an echo otherwise. */
export function templateModelResponder(body) {
  return { json: templateModelTurn(body) };
}
