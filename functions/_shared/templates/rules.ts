// The catalogue of template rules the validator applies: one stable code per rule, whether breaking it
// is an error (Meta rejects the template) or a warning (a risk, or a rule no Meta page confirms), and
// where the rule comes from. Sources are the project's reference notes (docs: ../shared/reference/
// whatsapp.md §1, zoho-knowledge-dashboard-templates.md §5), which cite Meta's pages:
//   META-FUND  Template fundamentals           META-COMP  Template components
//   META-MGMT  Template management             META-REV   Template review
//   META-CAT   Template categorization         META-AUTH  Authentication / copy-code templates
//   META-UTIL  Utility templates               META-HOOK  message_template_status_update webhook reference
// Codes never change meaning; new rules get new codes. The README's rules table is built from this.

export type Severity = "error" | "warning";

export interface RuleInfo {
  severity: Severity;
  /** One line: what the rule says. */
  summary: string;
  /** Where it comes from; "UNCONFIRMED" when no Meta page states it. */
  source: string;
  /** false when only third parties or heuristics support the rule (always a warning then). */
  confirmed: boolean;
}

const meta = (summary: string, source: string): RuleInfo => ({ severity: "error", summary, source, confirmed: true });
const unconfirmed = (summary: string, source: string): RuleInfo => ({
  severity: "warning",
  summary,
  source: `UNCONFIRMED: ${source}`,
  confirmed: false,
});
const advice = (summary: string, source: string): RuleInfo => ({ severity: "warning", summary, source, confirmed: true });

export const RULES = {
  PAYLOAD_INVALID: meta("The payload is a JSON object", "META-FUND common syntax"),
  NAME_REQUIRED: meta("name is present", "META-FUND common syntax"),
  NAME_FORMAT: meta("name matches ^[a-z0-9_]+$", "META-MGMT (error 100 otherwise)"),
  NAME_TOO_LONG: meta("name is at most 512 characters", "META-FUND, META-MGMT"),
  NAME_LEADING_LETTER: unconfirmed("name starts with a letter", "third-party JSON schema ^[a-z][a-z0-9_]*$; Meta's regex allows a digit"),
  LANGUAGE_UNSUPPORTED: meta("language is a supported code from the allow-list (underscore, not hyphen)", "META-FUND; list as reproduced by Wati and YCloud"),
  CATEGORY_INVALID: meta("category is MARKETING, UTILITY or AUTHENTICATION", "META-CAT, META-MGMT"),
  PARAMETER_FORMAT_INVALID: meta("parameter_format is named or positional", "META-FUND parameter formats"),
  PARAMETER_FORMAT_MISMATCH: meta("placeholders use the declared parameter_format (positional when omitted)", "META-FUND parameter formats"),
  TTL_INVALID: meta("message_send_ttl_seconds is a positive integer", "META-AUTH creation syntax"),
  TTL_RANGE: unconfirmed("message_send_ttl_seconds within the category's range (auth 30-900 s, utility 30-43200 s, marketing 43200-2592000 s)", "wengkitt/whatapps-template-validator only"),
  COMPONENTS_REQUIRED: meta("components is a non-empty array", "META-FUND common syntax"),
  COMPONENT_INVALID: meta("each component is an object with a known type", "META-COMP"),
  COMPONENT_NOT_CHECKED: advice("CAROUSEL and LIMITED_TIME_OFFER components are accepted but not checked here", "this validator's scope"),
  COMPONENT_DUPLICATE: meta("at most one HEADER, FOOTER and BUTTONS component", "META-COMP, META-UTIL"),
  BODY_MISSING: meta("exactly one BODY component", "META-COMP"),
  BODY_TEXT_REQUIRED: meta("BODY has non-empty text (except AUTHENTICATION)", "META-COMP"),
  BODY_TOO_LONG: meta("BODY text is at most 1024 characters", "META-COMP"),
  HEADER_FORMAT_INVALID: meta("HEADER format is TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION or GIF", "META-COMP"),
  HEADER_TEXT_REQUIRED: meta("a TEXT header has non-empty text", "META-COMP"),
  HEADER_TEXT_TOO_LONG: meta("HEADER text is at most 60 characters", "META-COMP"),
  HEADER_TOO_MANY_VARIABLES: meta("HEADER text has at most one variable", "META-COMP"),
  HEADER_FORMATTING: meta("HEADER text has no formatting characters (* ~ `)", "META-COMP: do not use Markdown special characters"),
  HEADER_EMOJI: unconfirmed("HEADER text has no emoji", "Bird's template docs; Meta only forbids Markdown characters"),
  HEADER_MEDIA_EXAMPLE_REQUIRED: meta("an IMAGE, VIDEO, DOCUMENT or GIF header has example.header_handle (an upload handle)", "META-COMP, META-FUND media"),
  HEADER_LOCATION_CATEGORY: meta("LOCATION headers only in UTILITY or MARKETING", "META-COMP, META-CAT"),
  HEADER_GIF_CATEGORY: meta("GIF headers only in MARKETING templates", "META-COMP (Marketing Messages API only)"),
  FOOTER_TEXT_REQUIRED: meta("FOOTER has non-empty text (except AUTHENTICATION)", "META-COMP"),
  FOOTER_TOO_LONG: meta("FOOTER text is at most 60 characters", "META-COMP"),
  FOOTER_VARIABLE: unconfirmed("FOOTER has no variables", "Meta's utility page says variables are supported, its components page shows none, Alibaba rejects them"),
  BUTTONS_EMPTY: meta("a BUTTONS component holds at least one button", "META-COMP"),
  BUTTONS_TOO_MANY: meta("at most 10 buttons in all", "META-COMP"),
  BUTTON_INVALID: meta("each button is an object with a known type", "META-COMP"),
  BUTTON_URL_LIMIT: meta("at most 2 URL buttons", "META-COMP"),
  BUTTON_PHONE_LIMIT: meta("at most 1 PHONE_NUMBER button", "META-COMP"),
  BUTTON_COPY_CODE_LIMIT: meta("at most 1 COPY_CODE button", "META-COMP"),
  BUTTON_GROUPING: meta("quick replies form one group, before or after all other buttons", "META-COMP (invalid combination)"),
  BUTTON_TEXT_REQUIRED: meta("a button has a label", "META-COMP"),
  BUTTON_TEXT_TOO_LONG: meta("a button label is at most 25 characters", "META-COMP, META-AUTH"),
  BUTTON_TEXT_VARIABLE: unconfirmed("button labels have no variables", "the reference notes' recommendation; Meta shows labels as fixed text"),
  BUTTON_URL_INVALID: meta("a URL button has an http(s) url of at most 2000 characters", "META-COMP"),
  BUTTON_URL_VARIABLE: meta("a URL has at most one variable, {{1}}, at its very end", "META-COMP"),
  BUTTON_URL_EXAMPLE_REQUIRED: meta("a URL with a variable has an example", "META-COMP"),
  BUTTON_URL_SHORTENER: unconfirmed("URLs are not link shorteners", "Clickatell and QuickReply.ai rejection lists"),
  BUTTON_PHONE_INVALID: meta("a PHONE_NUMBER button has a phone_number of at most 20 characters", "META-COMP"),
  BUTTON_COPY_CODE_EXAMPLE: meta("a COPY_CODE button has an example of at most 20 characters", "META-COMP (both copies agree on no more than 20)"),
  BUTTON_COPY_CODE_EXAMPLE_LENGTH: unconfirmed("a COPY_CODE example of 16 to 20 characters", "Meta's Nov-2025 components page says 15, its Jun-2026 copy says 20"),
  BUTTON_COPY_CODE_UTILITY: unconfirmed("COPY_CODE in a UTILITY template", "Gupshup forbids it; Meta's 2026 utility page lists it as supported"),
  BUTTON_OTP_CATEGORY: meta("OTP buttons only in AUTHENTICATION templates", "META-CAT, META-AUTH"),
  BUTTONS_DESKTOP: advice("4+ buttons, or quick replies mixed with other buttons, are not shown on WhatsApp desktop", "META-COMP"),
  PLACEHOLDER_MALFORMED: meta("placeholders are {{1}} or {{name}} with matching double braces", "META-REV parameter formatting"),
  PLACEHOLDER_SPECIAL_CHARACTERS: meta("placeholders contain no special characters such as # $ %", "META-REV parameter formatting"),
  PLACEHOLDER_NAMED_FORMAT: meta("named placeholders are lowercase letters, digits and underscores", "META-FUND parameter formats"),
  PLACEHOLDER_MIXED: meta("named and positional placeholders are never mixed in one template", "META-FUND (one parameter_format per template)"),
  PLACEHOLDER_NOT_SEQUENTIAL: meta("positional placeholders are {{1}}..{{n}} in order of first appearance, per component", "META-FUND, META-REV"),
  PLACEHOLDER_AT_START: meta("the body does not start with a variable", "META-REV dangling parameters"),
  PLACEHOLDER_AT_END: meta("the body does not end with a variable", "META-REV dangling parameters"),
  PLACEHOLDER_AT_EDGE_PUNCTUATION: unconfirmed("the body does not start or end with a variable followed only by punctuation", "community reports; Meta's text only says start or end"),
  PLACEHOLDER_ADJACENT: meta("two variables are separated by words, not only by spaces", "META-HOOK rejection_info example ('parameters placed next to each other'); Twilio, Verloop"),
  PLACEHOLDER_ADJACENT_PUNCTUATION: unconfirmed("two variables are separated by more than punctuation", "Twilio, Verloop"),
  PLACEHOLDER_RATIO: unconfirmed("at least 3n+1 words of fixed text for n variables", "heuristic; Meta rejects 'too many variables for its length' (2388293) without a number"),
  EXAMPLE_MISSING: meta("every component with variables has example values", "META-FUND (an example for each parameter)"),
  EXAMPLE_MISMATCH: meta("examples match the placeholders: one per positional variable, one per named variable, no extras", "META-FUND"),
  EXAMPLE_INVALID: meta("examples have Meta's shape (body_text: [[...]], header_text: [...], *_named_params: [{param_name, example}]) and are non-empty", "META-FUND, META-COMP"),
  AUTH_CUSTOM_TEXT: meta("AUTHENTICATION templates have no custom body, footer or header text", "META-AUTH (preset text)"),
  AUTH_HEADER_NOT_ALLOWED: meta("AUTHENTICATION templates have no header (no media)", "META-AUTH (URLs, media and emojis not supported)"),
  AUTH_EXPIRY_RANGE: meta("code_expiration_minutes is an integer from 1 to 90", "META-AUTH"),
  AUTH_SECURITY_RECOMMENDATION: meta("add_security_recommendation is a boolean", "META-AUTH"),
  AUTH_BUTTON_TYPE: meta("AUTHENTICATION buttons are a single OTP button with otp_type COPY_CODE, ONE_TAP or ZERO_TAP", "META-AUTH"),
  AUTH_SUPPORTED_APPS: meta("ONE_TAP and ZERO_TAP list 1-5 supported_apps with package_name and an 11-character signature_hash", "META-AUTH zero-tap page"),
  AUTH_ZERO_TAP_TERMS: meta("ZERO_TAP sets zero_tap_terms_accepted: true", "META-AUTH zero-tap page"),
  AUTH_URL_OR_EMOJI: meta("AUTHENTICATION content has no URLs or emojis", "META-AUTH, META-CAT"),
} as const satisfies Record<string, RuleInfo>;

export type RuleCode = keyof typeof RULES;
export const RULE_CODES = Object.keys(RULES) as RuleCode[];
