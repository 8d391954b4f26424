import { isSupportedCountry, Metadata } from 'libphonenumber-js';

/**
 * What the fast path decides for a number: the E.164 number, `E164_TOO_LONG`, or the reason libphonenumber's
 * length check gives (`validatePhoneNumberLength`). A verdict function's `undefined` means "not sure":
 * libphonenumber must read the number.
 */
export type LengthReason = 'TOO_SHORT' | 'TOO_LONG' | 'INVALID_LENGTH';
export type FastVerdict = `+${string}` | 'E164_TOO_LONG' | LengthReason;
type LengthCheck = 'IS_POSSIBLE' | LengthReason;

// The run-time parts of libphonenumber-js's Metadata that its type declarations leave out.
interface NumberingPlan {
  IDDPrefix(): string | 0 | undefined;
  nationalPrefixForParsing(): string | 0 | undefined;
  nationalNumberPattern(): string | 0 | undefined;
  possibleLengths(): number[] | undefined;
}
interface RuntimeMetadata {
  selectNumberingPlan(countryOrCallingCode: string): unknown;
  numberingPlan?: NumberingPlan;
  hasCallingCode(callingCode: string): boolean;
  countryCallingCodes(): Record<string, string[] | undefined>;
}

interface Plan {
  /** Digits that libphonenumber would read as an international prefix (`00`, `011`, `810`…), anchored. */
  idd: RegExp | undefined;
  /** libphonenumber's national_prefix_for_parsing, anchored the way it anchors it. */
  nationalPrefix: RegExp | undefined;
  /** The main country's national number pattern, whole-string, as libphonenumber's matchesEntirely builds it. */
  nationalPattern: RegExp;
  mainLengths: number[];
  /** By digit count: the length check's answer, or undefined where countries sharing the code disagree. */
  byLength: (LengthCheck | undefined)[];
  /** No shorter start of the code is a calling code itself, so libphonenumber reads `+<cc>…` as this code. */
  prefixFree: boolean;
}

const E164_MAX_DIGITS = 15;
// libphonenumber refuses fewer national digits as not a number (MIN_LENGTH_FOR_NSN).
const MIN_NATIONAL = 2;

const metadata = new Metadata() as unknown as RuntimeMetadata;
const plans = new Map<string, Plan | null>();

/** libphonenumber's checkNumberLength, step for step (it assumes the lengths are sorted; so does this). */
function checkLength(length: number, lengths: number[]): LengthCheck {
  const min = lengths[0]!;
  if (min === length) return 'IS_POSSIBLE';
  if (min > length) return 'TOO_SHORT';
  if (lengths[lengths.length - 1]! < length) return 'TOO_LONG';
  return lengths.indexOf(length, 1) >= 0 ? 'IS_POSSIBLE' : 'INVALID_LENGTH';
}

function selected(countryOrCallingCode: string): NumberingPlan | undefined {
  metadata.selectNumberingPlan(countryOrCallingCode);
  return metadata.numberingPlan;
}

const anchored = (pattern: string) => new RegExp(`^(?:${pattern})`);

/**
 * The numbering plans normalisePhone's libphonenumber reading goes through for national digits: the main
 * country's (its `defaultCountry`) for prefixes, and every country sharing the code for the length check,
 * since libphonenumber measures the number against the country it picks by leading digits (`+1 310 1234` is
 * possible in Canada, not in the US). A non-geographic code (+800…) is read by its own plan, with no
 * international prefix. `null`: some piece is missing, so never decide here.
 */
function buildPlan(cc: string): Plan | null {
  if (!metadata.hasCallingCode(cc)) return null;
  const countries = metadata.countryCallingCodes()[cc];
  const main = countries?.[0];
  const geographic = main !== undefined && isSupportedCountry(main);
  const mainPlan = selected(geographic ? main : cc);
  if (!mainPlan) return null;
  const idd = mainPlan.IDDPrefix();
  const nationalPrefix = mainPlan.nationalPrefixForParsing();
  const pattern = mainPlan.nationalNumberPattern();
  const mainLengths = mainPlan.possibleLengths();
  // An IDD of the metadata's placeholder 0 would become the regex /0/ in libphonenumber: not worth mirroring.
  if ((geographic && (typeof idd !== 'string' || idd === '')) || typeof pattern !== 'string' || !mainLengths?.length) return null;
  const sharing = geographic ? countries!.map((country) => selected(country)?.possibleLengths()) : [mainLengths];
  if (sharing.some((lengths) => !lengths?.length)) return null;
  const byLength: (LengthCheck | undefined)[] = [];
  for (let length = MIN_NATIONAL; length <= E164_MAX_DIGITS - cc.length; length++) {
    const checks = new Set(sharing.map((lengths) => checkLength(length, lengths!)));
    byLength[length] = checks.size === 1 ? [...checks][0] : undefined;
  }
  return {
    idd: geographic ? anchored(idd as string) : undefined,
    nationalPrefix: nationalPrefix ? anchored(nationalPrefix) : undefined,
    nationalPattern: new RegExp(`^(?:${pattern})$`),
    mainLengths,
    byLength,
    prefixFree: [...cc].every((_, end) => end === 0 || !metadata.hasCallingCode(cc.slice(0, end))),
  };
}

function planFor(cc: string): Plan | null {
  let plan = plans.get(cc);
  if (plan === undefined) {
    plan = buildPlan(cc);
    plans.set(cc, plan);
  }
  return plan;
}

/**
 * What libphonenumber would make of `digits` (ASCII digits only, no `+`) dialled nationally under calling code
 * `cc`, when that is certain without running its parser: the digits cannot be read as an international prefix,
 * a national (trunk) prefix, or the calling code typed again, so they are the national number as they stand.
 */
export function nationalVerdict(cc: string, digits: string): FastVerdict | undefined {
  const plan = planFor(cc);
  const length = digits.length;
  if (!plan || length < MIN_NATIONAL || plan.idd?.test(digits) || hasNationalPrefix(plan, digits)) return undefined;
  // libphonenumber drops a leading calling code if the digits do not fit the plan without it, or are too long.
  if (digits.startsWith(cc) && (checkLength(length, plan.mainLengths) === 'TOO_LONG' || !plan.nationalPattern.test(digits))) {
    return undefined;
  }
  // Past 17 digits libphonenumber throws TOO_LONG, which normalisePhone reports the same way as E.164's limit.
  if (cc.length + length > E164_MAX_DIGITS) return 'E164_TOO_LONG';
  return verdict(plan, cc, digits);
}

/**
 * The same for a complete number, `+` then `digits`, that should start with calling code `cc`. libphonenumber
 * reads the calling code off the front and strips nothing but a national prefix typed after it.
 */
export function internationalVerdict(cc: string, digits: string): FastVerdict | undefined {
  const plan = planFor(cc);
  if (!plan) return undefined;
  if (digits.length > E164_MAX_DIGITS) return 'E164_TOO_LONG';
  // Another calling code in front is a mismatch for libphonenumber to word.
  if (!plan.prefixFree || !digits.startsWith(cc)) return undefined;
  const national = digits.slice(cc.length);
  if (national.length < MIN_NATIONAL || hasNationalPrefix(plan, national)) return undefined;
  return verdict(plan, cc, national);
}

function hasNationalPrefix(plan: Plan, digits: string): boolean {
  if (!plan.nationalPrefix) return false;
  // A prefix pattern that matches nothing (AR's is all optional) leaves the digits as they are.
  const prefix = plan.nationalPrefix.exec(digits);
  return prefix !== null && prefix[0] !== '';
}

function verdict(plan: Plan, cc: string, national: string): FastVerdict | undefined {
  const check = plan.byLength[national.length];
  if (check === undefined) return undefined;
  return check === 'IS_POSSIBLE' ? `+${cc}${national}` : check;
}
