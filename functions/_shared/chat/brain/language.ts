// What the rule-based brain recognises and says, as data: phrases per intent and per language, and
// the bot's lines. Adding a language is adding an entry here (no code branches); an organisation
// picks its language in bot_settings.language, and an unknown one falls back to English.
//
// Matching (see rules.ts): a message matches a phrase when the phrase's words appear in it in order
// and next to each other, after both are lower-cased, stripped of accents and punctuation. A phrase
// listed under `unless` cancels its intent ("not fixed" is not a resolution).

export type Intent = "end_chat" | "handoff" | "callback" | "resolved" | "greeting" | "thanks" | "cancel";

export interface IntentPhrases {
  phrases: string[];
  unless?: string[];
}

export interface Lines {
  greeting: (p: { company: string; agent: string; name?: string | null }) => string;
  fallback: string;
  handoff_done: string;
  handoff_already: string;
  callback_ask_both: string;
  callback_ask_time: (p: { hoursHint: string | null }) => string;
  callback_ask_phone: (p: { channelPhone: string | null }) => string;
  callback_time_past: string;
  callback_time_date_only: string;
  callback_outside_hours: (p: { hours: string }) => string;
  callback_done: (p: { when: string; phone: string }) => string;
  callback_already: (p: { when: string; phone: string }) => string;
  callback_cancelled: string;
  closed: string;
  thanks: string;
  queued_wait: string;
  /** The customer ended a live session with a person; the bot is back. */
  live_session_ended: string;
  buttons: { agent: string; callback: string; use_this_number: string; cancel: string };
}

export interface LanguagePack {
  intents: Record<Intent, IntentPhrases>;
  /** Words that make a message small talk (not an issue description) when it has nothing else. */
  smallTalk: string[];
  lines: Lines;
}

const en: LanguagePack = {
  intents: {
    end_chat: { phrases: ["end chat", "end the chat", "stop chat", "close chat", "end conversation", "exit chat"] },
    handoff: {
      phrases: [
        "talk to a person", "talk to someone", "speak to a person", "speak to someone", "speak with someone",
        "talk to a human", "speak to a human", "real person", "human agent", "live agent", "an agent",
        "connect me", "customer service", "representative", "talk to an expert", "talk to expert", "instant chat",
        "need a person", "want a person", "operator", "a real human", "transfer me",
      ],
      unless: ["dont want a person", "do not want a person", "no person", "without a person"],
    },
    callback: {
      phrases: [
        "call me back", "callback", "call back", "give me a call", "call me", "ring me", "phone me",
        "schedule a call", "book a call", "can someone call", "have someone call",
      ],
      unless: ["dont call", "do not call", "no call", "not call"],
    },
    resolved: {
      phrases: [
        "issue is resolved", "issue resolved", "problem solved", "problem is solved", "that fixed it",
        "that solved it", "it is fixed", "its fixed", "it works now", "working now", "all sorted", "sorted now",
        "that worked", "resolved thanks", "all good now", "no longer need help", "thats all i needed",
        "that is all i needed", "issue is fixed", "problem is fixed", "its resolved", "it is resolved",
      ],
      unless: ["not resolved", "isnt resolved", "not fixed", "isnt fixed", "not solved", "still not", "not working",
               "doesnt work", "did not work", "didnt work", "not sorted"],
    },
    greeting: { phrases: ["hi", "hello", "hey", "good morning", "good afternoon", "good evening", "hiya", "howdy"] },
    thanks: { phrases: ["thanks", "thank you", "thx", "cheers", "much appreciated"] },
    cancel: { phrases: ["never mind", "nevermind", "forget it", "cancel", "no thanks", "stop"] },
  },
  smallTalk: ["hi", "hello", "hey", "thanks", "thank you", "ok", "okay", "yes", "no", "sure", "please", "cool", "great"],
  lines: {
    greeting: ({ company, agent, name }) =>
      `Hi${name ? ` ${name}` : ""}! I'm ${agent}, the virtual assistant of ${company}. How can I help you today?`,
    fallback:
      "I'm not sure I can answer that correctly, and I'd rather not guess. Would you like to talk to a person, or schedule a callback?",
    handoff_done: "I'm connecting you with a member of our team. Someone will be with you shortly.",
    handoff_already: "You're already in the queue for a member of our team; someone will be with you shortly.",
    callback_ask_both: "Sure, we can call you back. When suits you, and on which number? (For example: \"tomorrow at 2pm on 416-555-0199\")",
    callback_ask_time: ({ hoursHint }) =>
      `What time would suit you for the callback?${hoursHint ? ` We call back during our hours: ${hoursHint}.` : ""} (For example: "tomorrow at 2pm")`,
    callback_ask_phone: ({ channelPhone }) =>
      channelPhone
        ? `Which number should we call? Tap "Call this number" to use ${channelPhone}, or type another.`
        : "Which phone number should we call you on?",
    callback_time_past: "That time has already passed. What later time would suit you?",
    callback_time_date_only: "What time on that day would suit you?",
    callback_outside_hours: ({ hours }) => `We can only call back during our business hours (${hours}). What time within them suits you?`,
    callback_done: ({ when, phone }) => `Done: we'll call you on ${phone}, ${when}. Is there anything else I can help with?`,
    callback_already: ({ when, phone }) => `You already have a callback booked: we'll call you on ${phone}, ${when}.`,
    callback_cancelled: "No problem, I won't book a callback. Anything else I can help with?",
    closed: "Glad that's sorted! I've closed this conversation. Write again any time if you need us.",
    thanks: "You're welcome! Is there anything else I can help with?",
    queued_wait: "Thanks, your message is with our team. Someone will reply shortly.",
    live_session_ended: "You've ended the chat with our team. I'm here if you need anything else.",
    buttons: { agent: "Talk to a person", callback: "Schedule a callback", use_this_number: "Call this number", cancel: "Cancel" },
  },
};

const fr: LanguagePack = {
  intents: {
    end_chat: { phrases: ["fin du chat", "terminer le chat", "fermer le chat", "end chat", "terminer la conversation"] },
    handoff: {
      phrases: ["parler a quelquun", "parler a une personne", "parler a un humain", "un conseiller", "un agent",
                "service client", "une vraie personne", "mettez moi en relation"],
    },
    callback: { phrases: ["rappelez moi", "me rappeler", "rappel", "appelez moi", "un appel"], unless: ["ne mappelez pas"] },
    resolved: {
      phrases: ["probleme resolu", "cest resolu", "ca marche", "ca fonctionne", "cest regle", "tout est bon"],
      unless: ["pas resolu", "ne marche pas", "ne fonctionne pas", "toujours pas"],
    },
    greeting: { phrases: ["bonjour", "salut", "bonsoir", "allo"] },
    thanks: { phrases: ["merci", "merci beaucoup"] },
    cancel: { phrases: ["laisse tomber", "annuler", "non merci", "oubliez"] },
  },
  smallTalk: ["bonjour", "salut", "merci", "oui", "non", "daccord", "ok"],
  lines: {
    greeting: ({ company, agent, name }) =>
      `Bonjour${name ? ` ${name}` : ""} ! Je suis ${agent}, l'assistant virtuel de ${company}. Comment puis-je vous aider ?`,
    fallback: "Je ne suis pas certain de pouvoir répondre correctement. Voulez-vous parler à une personne ou être rappelé ?",
    handoff_done: "Je vous mets en relation avec un membre de notre équipe. Quelqu'un vous répondra sous peu.",
    handoff_already: "Vous êtes déjà dans la file d'attente ; quelqu'un vous répondra sous peu.",
    callback_ask_both: "Bien sûr. Quand et à quel numéro pouvons-nous vous rappeler ? (Par exemple : « demain à 14 h au 514-555-0199 »)",
    callback_ask_time: ({ hoursHint }) => `À quelle heure pouvons-nous vous rappeler ?${hoursHint ? ` Nos heures : ${hoursHint}.` : ""}`,
    callback_ask_phone: ({ channelPhone }) =>
      channelPhone ? `À quel numéro ? Touchez « Ce numéro » pour ${channelPhone}, ou écrivez-en un autre.` : "À quel numéro pouvons-nous vous rappeler ?",
    callback_time_past: "Cette heure est déjà passée. Quelle heure plus tard vous conviendrait ?",
    callback_time_date_only: "À quelle heure ce jour-là ?",
    callback_outside_hours: ({ hours }) => `Nous rappelons pendant nos heures d'ouverture (${hours}). Quelle heure vous convient ?`,
    callback_done: ({ when, phone }) => `C'est noté : nous vous rappellerons au ${phone} le ${when}. Puis-je vous aider autrement ?`,
    callback_already: ({ when, phone }) => `Un rappel est déjà prévu : au ${phone} le ${when}.`,
    callback_cancelled: "Très bien, pas de rappel. Puis-je vous aider autrement ?",
    closed: "Parfait ! J'ai fermé cette conversation. Écrivez-nous quand vous voulez.",
    thanks: "Avec plaisir ! Puis-je vous aider autrement ?",
    queued_wait: "Merci, votre message a été transmis à notre équipe.",
    live_session_ended: "Vous avez quitté la conversation avec notre équipe. Je reste là si vous avez besoin d'autre chose.",
    buttons: { agent: "Parler à quelqu'un", callback: "Être rappelé", use_this_number: "Ce numéro", cancel: "Annuler" },
  },
};

export const LANGUAGES: Record<string, LanguagePack> = { en, fr };

export function languagePack(language: string | null | undefined): LanguagePack {
  return LANGUAGES[(language ?? "en").toLowerCase().slice(0, 2)] ?? en;
}
