// A table of template creation payloads, valid and invalid, each invalid one naming the rule(s) it
// breaks (the exact set of error codes the validator must return) and, where relevant, the warnings
// it must raise. Meta's own examples (../shared/reference/whatsapp.md §1.1, §1.7, §1.8) are marked
// `meta: true`. Used by tests/unit/templates/validator.test.ts, the e2e `validate` test and
// bench/template-validator.mjs.
import type { RuleCode } from "../../../functions/_shared/templates/rules.ts";

export interface CorpusCase {
  name: string;
  payload: unknown;
  /** Exactly the error codes expected; empty for a valid template. */
  errors: RuleCode[];
  /** Warning codes that must (at least) be present. */
  warnings?: RuleCode[];
  /** Taken verbatim from Meta's documentation. */
  meta?: boolean;
}

type Component = Record<string, unknown>;

/** A UTILITY reminder that passes every rule: the base most cases change one thing in. */
export function reminder(overrides: Record<string, unknown> = {}, components?: Component[]): Record<string, unknown> {
  return {
    name: "appointment_reminder",
    language: "en_US",
    category: "UTILITY",
    components: components ?? [
      {
        type: "BODY",
        text: "Hi {{1}}, this is a reminder of your appointment tomorrow at {{2}}. Reply below if you need to change it.",
        example: { body_text: [["Maria", "10:30 AM"]] },
      },
      { type: "BUTTONS", buttons: [{ type: "QUICK_REPLY", text: "Reschedule" }] },
    ],
    ...overrides,
  };
}

const body = (text: string, examples?: string[]): Component =>
  examples ? { type: "BODY", text, example: { body_text: [examples] } } : { type: "BODY", text };
const OK_BODY = body("Your order {{1}} has shipped and will arrive on {{2}} at your door.", ["A-1042", "Friday"]);
const buttons = (...list: Component[]): Component => ({ type: "BUTTONS", buttons: list });
const qr = (text = "Yes please"): Component => ({ type: "QUICK_REPLY", text });
const url = (u = "https://www.example.com/orders", extra: Component = {}): Component => ({ type: "URL", text: "Track order", url: u, ...extra });
const phone = (p = "15550051310"): Component => ({ type: "PHONE_NUMBER", text: "Call us", phone_number: p });
const utility = (...components: Component[]) => reminder({ name: "order_update" }, components);
const marketing = (...components: Component[]) => reminder({ name: "spring_offer", category: "MARKETING" }, components);
const auth = (components: Component[], extra: Record<string, unknown> = {}) =>
  reminder({ name: "login_code", category: "AUTHENTICATION", ...extra }, components);
const otp = (extra: Component = {}): Component => ({ type: "OTP", otp_type: "COPY_CODE", text: "Copy Code", ...extra });
const app = { package_name: "com.example.luckyshrub", signature_hash: "K8a/AINcGX7" };

export const CORPUS: CorpusCase[] = [
  // ------------------------------------------------------------------ Meta's own examples (valid)
  {
    name: "Meta: seasonal_promotion (text header, positional body, footer, two quick replies)",
    meta: true,
    errors: [],
    payload: {
      name: "seasonal_promotion",
      language: "en_US",
      category: "MARKETING",
      components: [
        { type: "HEADER", format: "TEXT", text: "Our {{1}} is on!", example: { header_text: ["Summer Sale"] } },
        {
          type: "BODY",
          text: "Shop now through {{1}} and use code {{2}} to get {{3}} off of all merchandise.",
          example: { body_text: [["the end of August", "25OFF", "25%"]] },
        },
        { type: "FOOTER", text: "Use the buttons below to manage your marketing subscriptions" },
        {
          type: "BUTTONS",
          buttons: [{ type: "QUICK_REPLY", text: "Unsubscribe from Promos" }, { type: "QUICK_REPLY", text: "Unsubscribe from All" }],
        },
      ],
    },
  },
  {
    name: "Meta: order_confirmation with named parameters (lower-case type and category)",
    meta: true,
    errors: [],
    warnings: ["PLACEHOLDER_AT_EDGE_PUNCTUATION"],
    payload: {
      name: "order_confirmation",
      language: "en_US",
      category: "utility",
      parameter_format: "named",
      components: [
        {
          type: "body",
          text: "Thank you, {{first_name}}! Your order number is {{order_number}}.",
          example: {
            body_text_named_params: [
              { param_name: "first_name", example: "Pablo" },
              { param_name: "order_number", example: "860198-230332" },
            ],
          },
        },
      ],
    },
  },
  {
    name: "Meta: authentication_code_copy_code_button",
    meta: true,
    errors: [],
    payload: {
      name: "authentication_code_copy_code_button",
      language: "en_US",
      category: "authentication",
      message_send_ttl_seconds: 60,
      components: [
        { type: "body", add_security_recommendation: true },
        { type: "footer", code_expiration_minutes: 5 },
        { type: "buttons", buttons: [{ type: "otp", otp_type: "copy_code", text: "Copy Code" }] },
      ],
    },
  },
  {
    name: "Meta: order_delivery_update with a LOCATION header",
    meta: true,
    errors: [],
    payload: utility({ type: "HEADER", format: "LOCATION" }, OK_BODY),
  },
  {
    name: "Meta: URL button with a variable and its example, phone and quick replies grouped",
    meta: true,
    errors: [],
    warnings: ["BUTTONS_DESKTOP"],
    payload: marketing(
      body("Our spring sale starts {{1}} with new plants in every size for your garden.", ["Monday"]),
      buttons(qr("Interested"), qr("Not now"),
        { type: "URL", text: "Shop Now", url: "https://www.luckyshrub.com/shop?promo={{1}}", example: ["summer2023"] },
        { type: "PHONE_NUMBER", text: "Call", phone_number: "15550051310" }),
    ),
  },
  {
    name: "Meta: COPY_CODE button example 250FF",
    meta: true,
    errors: [],
    payload: marketing(body("Use the code below at checkout to take a quarter off your next order with us."), buttons({ type: "COPY_CODE", example: "250FF" })),
  },
  {
    name: "Meta: valid grouping URL, Phone, QR, QR",
    meta: true,
    errors: [],
    warnings: ["BUTTONS_DESKTOP"],
    payload: utility(OK_BODY, buttons(url(), phone(), qr("Yes"), qr("No"))),
  },
  {
    name: "Meta: invalid grouping QR, URL, QR",
    meta: true,
    errors: ["BUTTON_GROUPING"],
    payload: utility(OK_BODY, buttons(qr("Yes"), url(), qr("No"))),
  },
  {
    name: "Meta: invalid grouping URL, QR, URL",
    meta: true,
    errors: ["BUTTON_GROUPING"],
    payload: utility(OK_BODY, buttons(url(), qr("Yes"), url("https://www.example.com/help"))),
  },
  {
    name: "Meta: non-sequential variables {{1}}, {{2}}, {{5}}, {{4}}",
    meta: true,
    errors: ["PLACEHOLDER_NOT_SEQUENTIAL", "EXAMPLE_MISMATCH"],
    payload: utility(body("Dear {{1}}, your items {{2}} and {{5}} ship with {{4}} as the carrier for this order.", ["Ann", "mug", "lamp"])),
  },

  // ------------------------------------------------------------------ more valid templates
  { name: "the UTILITY reminder with two variables and a quick reply", errors: [], payload: reminder() },
  {
    name: "image header with an upload handle",
    errors: [],
    payload: marketing({ type: "HEADER", format: "IMAGE", example: { header_handle: ["4::aW1hZ2UvanBlZw==:ARb"] } }, body("Fresh succulents are in stock this week at every one of our stores.")),
  },
  { name: "fil is a language (a regex would refuse it)", errors: [], payload: reminder({ language: "fil" }) },
  { name: "prs_AF is a language", errors: [], payload: reminder({ language: "prs_AF" }) },
  { name: "a name of exactly 512 characters", errors: [], payload: reminder({ name: "a".repeat(512) }) },
  { name: "a body of exactly 1024 characters", errors: [], payload: utility(body("x".repeat(1024))) },
  {
    name: "ten quick replies",
    errors: [],
    warnings: ["BUTTONS_DESKTOP"],
    payload: marketing(body("Tell us which of our products you would like to hear more about from us."), buttons(...Array.from({ length: 10 }, (_, i) => qr(`Option ${i + 1}`)))),
  },
  {
    name: "a repeated variable keeps its number",
    errors: [],
    payload: utility(body("Hello {{1}}, your parcel is ready. Thanks again {{1}} for shopping with us today.", ["Ann"])),
  },
  {
    name: "named variables in header and body",
    errors: [],
    payload: reminder({ parameter_format: "NAMED" }, [
      { type: "HEADER", format: "TEXT", text: "Hello {{first_name}}", example: { header_text_named_params: [{ param_name: "first_name", example: "Ann" }] } },
      {
        type: "BODY",
        text: "Your visit is booked for {{visit_time}} at our main clinic on the high street.",
        example: { body_text_named_params: [{ param_name: "visit_time", example: "9:00" }] },
      },
    ]),
  },
  {
    name: "one-tap authentication with a supported app",
    errors: [],
    payload: auth([{ type: "BODY" }, buttons(otp({ otp_type: "ONE_TAP", supported_apps: [app] }))]),
  },
  {
    name: "zero-tap authentication with terms accepted",
    errors: [],
    payload: auth([{ type: "BODY" }, buttons(otp({ otp_type: "ZERO_TAP", zero_tap_terms_accepted: true, supported_apps: [app] }))]),
  },

  // ------------------------------------------------------------------ payload, name, language, category
  { name: "a payload that is not an object", errors: ["PAYLOAD_INVALID"], payload: ["not", "a", "template"] },
  { name: "no name", errors: ["NAME_REQUIRED"], payload: reminder({ name: undefined }) },
  { name: "upper-case name", errors: ["NAME_FORMAT"], payload: reminder({ name: "Appointment_Reminder" }) },
  { name: "name with a space and hyphen", errors: ["NAME_FORMAT"], payload: reminder({ name: "appointment reminder-1" }) },
  { name: "name longer than 512", errors: ["NAME_TOO_LONG"], payload: reminder({ name: "a".repeat(513) }) },
  { name: "name starting with a digit", errors: [], warnings: ["NAME_LEADING_LETTER"], payload: reminder({ name: "2fa_reminder" }) },
  { name: "hyphenated language", errors: ["LANGUAGE_UNSUPPORTED"], payload: reminder({ language: "en-US" }) },
  { name: "unknown language", errors: ["LANGUAGE_UNSUPPORTED"], payload: reminder({ language: "xx_YY" }) },
  { name: "no language", errors: ["LANGUAGE_UNSUPPORTED"], payload: reminder({ language: undefined }) },
  { name: "unknown category", errors: ["CATEGORY_INVALID"], payload: reminder({ category: "TRANSACTIONAL" }) },
  { name: "bad parameter_format", errors: ["PARAMETER_FORMAT_INVALID"], payload: reminder({ parameter_format: "numbered" }) },
  { name: "TTL that is not a number", errors: ["TTL_INVALID"], payload: reminder({ message_send_ttl_seconds: "60" }) },
  { name: "UTILITY TTL outside the usual range", errors: [], warnings: ["TTL_RANGE"], payload: reminder({ message_send_ttl_seconds: 5 }) },

  // ------------------------------------------------------------------ components
  { name: "no components", errors: ["COMPONENTS_REQUIRED"], payload: reminder({ components: [] }) },
  { name: "unknown component type", errors: ["COMPONENT_INVALID"], payload: utility(OK_BODY, { type: "SIDEBAR", text: "x" }) },
  { name: "no body", errors: ["BODY_MISSING"], payload: utility({ type: "FOOTER", text: "Thanks" }) },
  { name: "two bodies", errors: ["BODY_MISSING"], payload: utility(OK_BODY, OK_BODY) },
  { name: "two footers", errors: ["COMPONENT_DUPLICATE"], payload: utility(OK_BODY, { type: "FOOTER", text: "a" }, { type: "FOOTER", text: "b" }) },
  { name: "empty body text", errors: ["BODY_TEXT_REQUIRED"], payload: utility(body("   ")) },
  { name: "body longer than 1024", errors: ["BODY_TOO_LONG"], payload: utility(body("x".repeat(1025))) },
  { name: "a carousel is passed through unchecked", errors: [], warnings: ["COMPONENT_NOT_CHECKED"], payload: marketing(OK_BODY, { type: "CAROUSEL", cards: [] }) },

  // ------------------------------------------------------------------ header
  { name: "header format unknown", errors: ["HEADER_FORMAT_INVALID"], payload: utility({ type: "HEADER", format: "AUDIO" }, OK_BODY) },
  { name: "text header without text", errors: ["HEADER_TEXT_REQUIRED"], payload: utility({ type: "HEADER", format: "TEXT" }, OK_BODY) },
  { name: "text header over 60", errors: ["HEADER_TEXT_TOO_LONG"], payload: utility({ type: "HEADER", format: "TEXT", text: "h".repeat(61) }, OK_BODY) },
  {
    name: "header with two variables",
    errors: ["HEADER_TOO_MANY_VARIABLES", "EXAMPLE_MISMATCH"],
    payload: utility({ type: "HEADER", format: "TEXT", text: "Hi {{1}} from {{2}}", example: { header_text: ["Ann"] } }, OK_BODY),
  },
  { name: "header with bold markers", errors: ["HEADER_FORMATTING"], payload: utility({ type: "HEADER", format: "TEXT", text: "*Big* news" }, OK_BODY) },
  { name: "header with an emoji", errors: [], warnings: ["HEADER_EMOJI"], payload: utility({ type: "HEADER", format: "TEXT", text: "Big news 🎉" }, OK_BODY) },
  { name: "header variable without example", errors: ["EXAMPLE_MISSING"], payload: utility({ type: "HEADER", format: "TEXT", text: "Hello {{1}}" }, OK_BODY) },
  { name: "header_text nested like body_text", errors: ["EXAMPLE_INVALID"], payload: utility({ type: "HEADER", format: "TEXT", text: "Hello {{1}}", example: { header_text: [["Ann"]] } }, OK_BODY) },
  { name: "video header without a sample", errors: ["HEADER_MEDIA_EXAMPLE_REQUIRED"], payload: marketing({ type: "HEADER", format: "VIDEO" }, OK_BODY) },
  {
    name: "LOCATION header in an AUTHENTICATION template",
    errors: ["HEADER_LOCATION_CATEGORY"],
    payload: auth([{ type: "HEADER", format: "LOCATION" }, { type: "BODY" }, buttons(otp())]),
  },
  {
    name: "GIF header in a UTILITY template",
    errors: ["HEADER_GIF_CATEGORY"],
    payload: utility({ type: "HEADER", format: "GIF", example: { header_handle: ["4::Z2lm:ARb"] } }, OK_BODY),
  },

  // ------------------------------------------------------------------ footer
  { name: "footer over 60", errors: ["FOOTER_TOO_LONG"], payload: utility(OK_BODY, { type: "FOOTER", text: "f".repeat(61) }) },
  { name: "footer without text", errors: ["FOOTER_TEXT_REQUIRED"], payload: utility(OK_BODY, { type: "FOOTER" }) },
  { name: "footer with a variable", errors: [], warnings: ["FOOTER_VARIABLE"], payload: utility(OK_BODY, { type: "FOOTER", text: "Sent by {{1}}" }) },

  // ------------------------------------------------------------------ placeholders
  { name: "body starts with a variable", errors: ["PLACEHOLDER_AT_START"], payload: utility(body("{{1}}, your order has shipped and will arrive on Friday at your door.", ["Ann"])) },
  { name: "body ends with a variable (kapso's README example)", errors: ["PLACEHOLDER_AT_END"], warnings: ["PLACEHOLDER_RATIO"], payload: utility(body("Hello {{1}}", ["Ann"])) },
  { name: "body ends with a variable and a full stop", errors: [], warnings: ["PLACEHOLDER_AT_EDGE_PUNCTUATION"], payload: utility(body("Your order has shipped and will be delivered to you by {{1}}.", ["Friday"])) },
  { name: "adjacent variables", errors: ["PLACEHOLDER_ADJACENT"], payload: utility(body("Hello, your delivery window is {{1}} {{2}} and the driver will call before arriving.", ["Friday", "9-11"])) },
  { name: "variables separated by a slash", errors: [], warnings: ["PLACEHOLDER_ADJACENT_PUNCTUATION"], payload: utility(body("Hello, your delivery window is {{1}}/{{2}} and the driver will call before arriving.", ["Friday", "9-11"])) },
  { name: "variables starting at 2", errors: ["PLACEHOLDER_NOT_SEQUENTIAL"], payload: utility(body("Hello {{2}}, your order has shipped and will arrive on {{3}} at your door.", ["Ann", "Friday"])) },
  { name: "variables out of order", errors: ["PLACEHOLDER_NOT_SEQUENTIAL"], payload: utility(body("Hello {{2}}, your order has shipped and will arrive on {{1}} at your door.", ["Ann", "Friday"])) },
  { name: "special characters in a variable", errors: ["PLACEHOLDER_SPECIAL_CHARACTERS"], payload: utility(body("Hello {{#1}}, your order has shipped and will arrive on Friday at your door.")) },
  { name: "mismatched braces", errors: ["PLACEHOLDER_MALFORMED"], payload: utility(body("Hello {{1}, your order has shipped and will arrive on Friday at your door.")) },
  { name: "spaces inside braces", errors: ["PLACEHOLDER_MALFORMED"], payload: utility(body("Hello {{ 1 }}, your order has shipped and will arrive on Friday at your door.")) },
  { name: "single braces", errors: ["PLACEHOLDER_MALFORMED"], payload: utility(body("Hello {1}, your order has shipped and will arrive on Friday at your door.")) },
  {
    name: "upper-case named variable",
    errors: ["PLACEHOLDER_NAMED_FORMAT"],
    payload: reminder({ parameter_format: "named" }, [body("Hello {{FirstName}}, your order has shipped and will arrive on Friday at your door.")]),
  },
  {
    name: "named and positional mixed",
    errors: ["PLACEHOLDER_MIXED", "PARAMETER_FORMAT_MISMATCH"],
    payload: reminder({ parameter_format: "named" }, [
      {
        type: "BODY",
        text: "Hello {{first_name}}, your order has shipped and will arrive on {{1}} at your door.",
        example: { body_text_named_params: [{ param_name: "first_name", example: "Ann" }], body_text: [["Friday"]] },
      },
    ]),
  },
  {
    name: "named variables without parameter_format",
    errors: ["PARAMETER_FORMAT_MISMATCH"],
    payload: utility({
      type: "BODY",
      text: "Hello {{first_name}}, your order has shipped and will arrive on Friday at your door.",
      example: { body_text_named_params: [{ param_name: "first_name", example: "Ann" }] },
    }),
  },
  { name: "too many variables for the text", errors: [], warnings: ["PLACEHOLDER_RATIO"], payload: utility(body("Hi {{1}} and {{2}} or {{3}} ok", ["a", "b", "c"])) },

  // ------------------------------------------------------------------ examples
  { name: "body variables without examples", errors: ["EXAMPLE_MISSING"], payload: utility(body("Your order {{1}} has shipped and will arrive on {{2}} at your door.")) },
  { name: "fewer examples than variables", errors: ["EXAMPLE_MISMATCH"], payload: utility(body("Your order {{1}} has shipped and will arrive on {{2}} at your door.", ["A-1"])) },
  {
    name: "body_text given flat instead of nested",
    errors: ["EXAMPLE_INVALID"],
    payload: utility({ type: "BODY", text: "Your order {{1}} has shipped and will arrive on Friday at your door.", example: { body_text: ["A-1"] } }),
  },
  { name: "an empty example value", errors: ["EXAMPLE_INVALID"], payload: utility(body("Your order {{1}} has shipped and will arrive on Friday at your door.", [""])) },
  {
    name: "named example for the wrong name",
    errors: ["EXAMPLE_MISMATCH"],
    payload: reminder({ parameter_format: "named" }, [{
      type: "BODY",
      text: "Hello {{first_name}}, your order has shipped and will arrive on Friday at your door.",
      example: { body_text_named_params: [{ param_name: "name", example: "Ann" }] },
    }]),
  },
  { name: "examples without variables", errors: ["EXAMPLE_MISMATCH"], payload: utility(body("Your order has shipped and will arrive on Friday at your door.", ["extra"])) },

  // ------------------------------------------------------------------ buttons
  { name: "BUTTONS with no buttons", errors: ["BUTTONS_EMPTY"], payload: utility(OK_BODY, buttons()) },
  {
    name: "eleven buttons",
    errors: ["BUTTONS_TOO_MANY"],
    warnings: ["BUTTONS_DESKTOP"],
    payload: marketing(OK_BODY, buttons(...Array.from({ length: 11 }, (_, i) => qr(`Option ${i + 1}`)))),
  },
  { name: "three URL buttons", errors: ["BUTTON_URL_LIMIT"], payload: utility(OK_BODY, buttons(url(), url("https://example.com/a"), url("https://example.com/b"))) },
  { name: "two phone buttons", errors: ["BUTTON_PHONE_LIMIT"], payload: utility(OK_BODY, buttons(phone(), phone("15550051311"))) },
  {
    name: "two copy-code buttons",
    errors: ["BUTTON_COPY_CODE_LIMIT"],
    payload: marketing(OK_BODY, buttons({ type: "COPY_CODE", example: "A1" }, { type: "COPY_CODE", example: "B2" })),
  },
  { name: "unknown button type", errors: ["BUTTON_INVALID"], payload: utility(OK_BODY, buttons({ type: "SHARE", text: "Share" })) },
  { name: "quick reply without a label", errors: ["BUTTON_TEXT_REQUIRED"], payload: utility(OK_BODY, buttons({ type: "QUICK_REPLY" })) },
  { name: "button label over 25", errors: ["BUTTON_TEXT_TOO_LONG"], payload: utility(OK_BODY, buttons(qr("Please reschedule my visit"))) },
  { name: "button label with a variable", errors: [], warnings: ["BUTTON_TEXT_VARIABLE"], payload: utility(OK_BODY, buttons(qr("Hi {{1}}"))) },
  { name: "URL that is not http(s)", errors: ["BUTTON_URL_INVALID"], payload: utility(OK_BODY, buttons(url("ftp://example.com/file"))) },
  { name: "URL longer than 2000", errors: ["BUTTON_URL_INVALID"], payload: utility(OK_BODY, buttons(url(`https://example.com/${"a".repeat(2000)}`))) },
  { name: "URL variable in the middle", errors: ["BUTTON_URL_VARIABLE"], payload: utility(OK_BODY, buttons(url("https://example.com/{{1}}/track", { example: ["A1"] }))) },
  { name: "URL with two variables", errors: ["BUTTON_URL_VARIABLE"], payload: utility(OK_BODY, buttons(url("https://example.com/{{1}}?p={{2}}", { example: ["A1"] }))) },
  { name: "URL variable without example", errors: ["BUTTON_URL_EXAMPLE_REQUIRED"], payload: utility(OK_BODY, buttons(url("https://example.com/track/{{1}}"))) },
  { name: "shortened URL", errors: [], warnings: ["BUTTON_URL_SHORTENER"], payload: utility(OK_BODY, buttons(url("https://bit.ly/3xYz"))) },
  { name: "phone number too long", errors: ["BUTTON_PHONE_INVALID"], payload: utility(OK_BODY, buttons(phone("+1 (555) 005-1310 ext 12345"))) },
  { name: "copy code without example", errors: ["BUTTON_COPY_CODE_EXAMPLE"], payload: marketing(OK_BODY, buttons({ type: "COPY_CODE" })) },
  { name: "copy code example of 18 characters (15 or 20?)", errors: [], warnings: ["BUTTON_COPY_CODE_EXAMPLE_LENGTH"], payload: marketing(OK_BODY, buttons({ type: "COPY_CODE", example: "SPRING-2026-SAVE20" })) },
  { name: "copy code example over 20", errors: ["BUTTON_COPY_CODE_EXAMPLE"], payload: marketing(OK_BODY, buttons({ type: "COPY_CODE", example: "SPRING-2026-SAVE-20-NOW" })) },
  { name: "URL example given as a string, not an array", errors: ["BUTTON_URL_EXAMPLE_REQUIRED"], payload: utility(OK_BODY, buttons(url("https://example.com/track/{{1}}", { example: "A1" }))) },
  { name: "copy code in a UTILITY template", errors: [], warnings: ["BUTTON_COPY_CODE_UTILITY"], payload: utility(OK_BODY, buttons({ type: "COPY_CODE", example: "A1B2" })) },
  { name: "OTP button in a MARKETING template", errors: ["BUTTON_OTP_CATEGORY"], payload: marketing(OK_BODY, buttons(otp())) },

  // ------------------------------------------------------------------ AUTHENTICATION
  { name: "authentication with custom body text", errors: ["AUTH_CUSTOM_TEXT"], payload: auth([{ type: "BODY", text: "Your code is {{1}}" }, buttons(otp())]) },
  { name: "authentication with footer text", errors: ["AUTH_CUSTOM_TEXT"], payload: auth([{ type: "BODY" }, { type: "FOOTER", text: "Thanks" }, buttons(otp())]) },
  { name: "authentication expiry of 0 minutes", errors: ["AUTH_EXPIRY_RANGE"], payload: auth([{ type: "BODY" }, { type: "FOOTER", code_expiration_minutes: 0 }, buttons(otp())]) },
  { name: "authentication expiry of 91 minutes", errors: ["AUTH_EXPIRY_RANGE"], payload: auth([{ type: "BODY" }, { type: "FOOTER", code_expiration_minutes: 91 }, buttons(otp())]) },
  { name: "security recommendation as text", errors: ["AUTH_SECURITY_RECOMMENDATION"], payload: auth([{ type: "BODY", add_security_recommendation: "yes" }, buttons(otp())]) },
  { name: "authentication with a quick reply", errors: ["AUTH_BUTTON_TYPE"], payload: auth([{ type: "BODY" }, buttons(qr())]) },
  { name: "authentication with an unknown otp_type", errors: ["AUTH_BUTTON_TYPE"], payload: auth([{ type: "BODY" }, buttons(otp({ otp_type: "MAGIC_LINK" }))]) },
  { name: "one-tap without supported apps", errors: ["AUTH_SUPPORTED_APPS"], payload: auth([{ type: "BODY" }, buttons(otp({ otp_type: "ONE_TAP" }))]) },
  {
    name: "one-tap with a 10-character signature hash",
    errors: ["AUTH_SUPPORTED_APPS"],
    payload: auth([{ type: "BODY" }, buttons(otp({ otp_type: "ONE_TAP", supported_apps: [{ package_name: "com.example.app", signature_hash: "K8a/AINcGX" }] }))]),
  },
  { name: "zero-tap without accepted terms", errors: ["AUTH_ZERO_TAP_TERMS"], payload: auth([{ type: "BODY" }, buttons(otp({ otp_type: "ZERO_TAP", supported_apps: [app] }))]) },
  { name: "OTP button label with an emoji", errors: ["AUTH_URL_OR_EMOJI"], payload: auth([{ type: "BODY" }, buttons(otp({ text: "Copy 🔑" }))]) },
  { name: "authentication TTL outside 30-900 s", errors: [], warnings: ["TTL_RANGE"], payload: auth([{ type: "BODY" }, buttons(otp())], { message_send_ttl_seconds: 3600 }) },
  { name: "a LOCATION header in a MARKETING template", errors: [], payload: marketing({ type: "HEADER", format: "LOCATION" }, OK_BODY) },
  {
    name: "authentication with an image header",
    errors: ["AUTH_HEADER_NOT_ALLOWED"],
    payload: auth([{ type: "HEADER", format: "IMAGE", example: { header_handle: ["4::aW1n:ARb"] } }, { type: "BODY" }, buttons(otp())]),
  },
];
