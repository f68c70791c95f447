// A phone number the customer typed for a callback, to E.164 with libphonenumber-js. Numbers without
// a country code are read in the country of the customer's own channel number (a +44 WhatsApp user
// typing "07700 900123" means a UK number), else the organisation's default country. Never throws:
// text that holds no valid number is null, and the bot asks again.
import { type CountryCode, findPhoneNumbersInText, parsePhoneNumberFromString } from "libphonenumber-js";

const MAX_INPUT = 500;

/** The country of an E.164 number, when libphonenumber knows it. */
export function countryOf(e164: string | null | undefined): string | null {
  if (!e164) return null;
  try {
    return parsePhoneNumberFromString(e164)?.country ?? null;
  } catch {
    return null;
  }
}

export interface PhoneContext {
  /** The customer's number on their channel (WhatsApp), when there is one. */
  channelPhone?: string | null;
  /** ISO 3166 alpha-2 of the organisation. */
  defaultCountry: string;
}

export interface PhoneMatch {
  /** E.164 */
  number: string;
  startsAt: number;
  endsAt: number;
}

/** The first valid phone number in `text` with where it was found, or null. */
export function findPhone(text: string, context: PhoneContext): PhoneMatch | null {
  const input = (text ?? "").slice(0, MAX_INPUT);
  if (!/\d{3}/.test(input.replace(/[\s().-]/g, ""))) return null;
  const country = (countryOf(context.channelPhone) ?? context.defaultCountry) as CountryCode;
  try {
    for (const found of findPhoneNumbersInText(input, { defaultCountry: country })) {
      if (found.number.isValid()) return { number: found.number.number, startsAt: found.startsAt, endsAt: found.endsAt };
    }
  } catch {
    // libphonenumber-js throws on some inputs (e.g. an unknown default country): no number.
  }
  return null;
}

/** The first valid phone number in `text`, in E.164, or null. */
export function findPhoneInText(text: string, context: PhoneContext): string | null {
  return findPhone(text, context)?.number ?? null;
}
