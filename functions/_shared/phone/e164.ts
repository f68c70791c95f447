// Caller and called numbers to E.164 with libphonenumber-js, the same rules the database applies to
// stored numbers (public.normalize_phone). Anything that is not a possible phone number (SIP URIs,
// "anonymous", "restricted", too short) is null: an unknown caller, never a guess.
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";

export function toE164(raw: string | null | undefined, defaultCountry = "US"): string | null {
  if (!raw) return null;
  const text = raw.trim();
  if (text === "" || /[A-Za-z@]/.test(text.replace(/\s*(ext\.?|x)\s*\d+\s*$/i, ""))) return null;
  const parsed = parsePhoneNumberFromString(text, {
    defaultCountry: defaultCountry as CountryCode,
    extract: false,
  });
  if (!parsed || !parsed.isPossible()) return null;
  // A local-only form ("555-0199" in North America) is "possible" nationally but names no single
  // line; the international form must be possible on its own.
  const international = parsePhoneNumberFromString(parsed.number);
  return international?.isPossible() ? international.number : null;
}
