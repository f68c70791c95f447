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
  return parsed.number;
}
