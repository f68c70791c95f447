// Caller and called numbers to E.164 with libphonenumber-js, the same rules the database applies to
// stored numbers (public.normalize_phone). Anything that is not a possible phone number (SIP URIs,
// "anonymous", "restricted", too short) is null: an unknown caller, never a guess.
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";

// Parsing costs ~15 µs and the same numbers recur (the numbers called, customers who call again):
// results are kept, a bounded number of them, since the function is pure.
const MEMO_LIMIT = 10_000;
const memo = new Map<string, string | null>();

export function toE164(raw: string | null | undefined, defaultCountry = "US"): string | null {
  if (!raw) return null;
  const key = `${defaultCountry}|${raw}`;
  const known = memo.get(key);
  if (known !== undefined) return known;
  const result = parse(raw, defaultCountry);
  if (memo.size >= MEMO_LIMIT) memo.delete(memo.keys().next().value as string);
  memo.set(key, result);
  return result;
}

function parse(raw: string, defaultCountry: string): string | null {
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
