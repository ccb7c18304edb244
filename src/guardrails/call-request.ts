import { FailureType } from '../shared/failures';
import { describeType } from './describe';
import { checkPhoneNumber } from './phone-number';
import { characterCount } from './text';
import { checkWebsite, websiteMaxLength } from './website';

export interface CallRequest {
  toPhoneNumber: string;
  objective: string;
  businessName?: string;
  website?: string;
}

export type GuardRailFailureType = Extract<FailureType, 'InvalidPhoneNumber' | 'ForbiddenNumber' | 'InvalidInput'>;

export type Verdict =
  | { ok: true; request: CallRequest; region: string | undefined }
  | {
      ok: false;
      type: GuardRailFailureType;
      field: 'toPhoneNumber' | 'objective' | 'businessName' | 'website' | 'input';
      message: string;
    };

type Refusal = Extract<Verdict, { ok: false }>;

export const limits = {
  objectiveMaxLength: 2000,
  businessNameMaxLength: 200,
  websiteMaxLength,
} as const;

const advice = {
  objective: 'say in a sentence what the call should achieve',
  businessName: "give the business's name, or leave businessName out",
} as const;

// Control characters (escape sequences rewrite a terminal, NUL ends a C string) and unpaired surrogates (not text at
// all) have no place in what the agent says. An objective may span lines; a business name is one line.
const forbiddenCharacters = {
  objective: /(?![\t\n\r])\p{Cc}|\p{Cs}/u,
  businessName: /\p{Cc}|\p{Cs}/u,
} as const;
// Text with nothing visible in it: trim() keeps zero-width spaces, the Hangul filler and other invisible characters.
const visibleCharacter = /[^\p{White_Space}\p{Cc}\p{Default_Ignorable_Code_Point}]/u;

/**
 * Decides whether a call request may be sent to the AgentPhone API, reporting the first problem in the order
 * toPhoneNumber, objective, businessName, website. Never throws, whatever `input` is; extra fields are ignored.
 */
export function checkCallRequest(input: unknown): Verdict {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    const got = describeType(input);
    return refuse('input', `The call request must be an object with toPhoneNumber and objective: got ${got}.`);
  }
  const fields = readFields(input);
  if (!fields) return refuse('input', 'The call request could not be read: pass a plain object.');

  const phone = checkPhoneNumber(fields.toPhoneNumber);
  if (!phone.ok) return { ok: false, type: phone.type, field: 'toPhoneNumber', message: phone.message };

  const objective = checkText('objective', fields.objective, limits.objectiveMaxLength);
  if (typeof objective !== 'string') {
    return objective ?? refuse('objective', `objective is missing: ${advice.objective}.`);
  }
  const businessName = checkText('businessName', fields.businessName, limits.businessNameMaxLength);
  if (typeof businessName === 'object') return businessName;
  const website = fields.website === undefined ? undefined : checkWebsite(fields.website);
  if (website?.ok === false) return refuse('website', website.message);

  const request: CallRequest = { toPhoneNumber: phone.e164, objective };
  if (businessName !== undefined) request.businessName = businessName;
  if (website?.ok) request.website = website.website;
  return { ok: true, request, region: phone.region };
}

/** The four fields, read once; undefined if reading them throws (a getter or a proxy), so this never throws. */
function readFields(input: object): Partial<Record<keyof CallRequest, unknown>> | undefined {
  try {
    const { toPhoneNumber, objective, businessName, website } = input as Partial<Record<keyof CallRequest, unknown>>;
    return { toPhoneNumber, objective, businessName, website };
  } catch {
    return undefined;
  }
}

/** The trimmed text, undefined if absent, or why it is refused. */
function checkText(
  field: 'objective' | 'businessName',
  value: unknown,
  maxLength: number,
): string | Refusal | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    return refuse(field, `${field} must be a string, not ${describeType(value)}: ${advice[field]}.`);
  }
  const text = value.trim();
  if (text === '') return refuse(field, `${field} is empty: ${advice[field]}.`);
  const length = characterCount(text);
  if (length > maxLength) {
    return refuse(field, `${field} is ${length} characters long, over the limit of ${maxLength}: shorten it.`);
  }
  if (forbiddenCharacters[field].test(text)) {
    return refuse(field, `${field} contains a control character or an unpaired surrogate: remove it.`);
  }
  if (!visibleCharacter.test(text)) return refuse(field, `${field} has no visible character: ${advice[field]}.`);
  return text;
}

function refuse(field: Refusal['field'], message: string): Refusal {
  return { ok: false, type: FailureType.InvalidInput, field, message };
}
