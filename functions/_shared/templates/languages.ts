// Template language codes Meta accepts, as an allow-list (a regex such as ^[a-z]{2}(_[A-Z]{2})?$ would
// refuse `fil` and `prs_AF`). Meta's own list page could not be read; these codes come from its
// reproductions by Wati (base list) and YCloud (regional codes, "updated May 21, 2026"). Codes are
// case-sensitive and use an underscore. See ../shared/reference/whatsapp.md §1.4.
export const TEMPLATE_LANGUAGES: ReadonlySet<string> = new Set([
  // Wati's list
  "af", "sq", "ar", "az", "bn", "bg", "ca", "zh_CN", "zh_HK", "zh_TW", "hr", "cs", "da", "nl",
  "en", "en_GB", "en_US", "et", "fil", "fi", "fr", "de", "el", "gu", "ha", "he", "hi", "hu",
  "id", "ga", "it", "ja", "kn", "kk", "ko", "lo", "lv", "lt", "mk", "ms", "ml", "mr", "nb", "fa", "pl",
  "pt_BR", "pt_PT", "pa", "ro", "ru", "sr", "sk", "sl", "es", "es_AR", "es_ES", "es_MX",
  "sw", "sv", "ta", "te", "th", "tr", "uk", "ur", "uz", "vi", "zu",
  // YCloud's newer regional codes
  "ar_EG", "ar_AE", "ar_LB", "ar_MA", "ar_QA", "be_BY", "bn_IN", "prs_AF", "nl_BE",
  "en_AE", "en_AU", "en_CA", "en_GH",
]);

/** `en-US` / `en_us` → `en_US` when that is a known code, for a helpful message; else null. */
export function suggestLanguage(code: string): string | null {
  const [lang, region, ...rest] = code.replace("-", "_").split("_");
  if (rest.length > 0 || !lang) return null;
  const candidate = region ? `${lang.toLowerCase()}_${region.toUpperCase()}` : lang.toLowerCase();
  return TEMPLATE_LANGUAGES.has(candidate) && candidate !== code ? candidate : null;
}
