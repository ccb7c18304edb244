import { FailureType } from '../failures';
import { describeType } from './describe';
import { checkPhoneNumber } from './phone-number';

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
  websiteMaxLength: 2048,
} as const;

const advice = {
  objective: 'say in a sentence what the call should achieve',
  businessName: "give the business's name, or leave businessName out",
  website: 'give an http or https address such as https://example.com, or leave website out',
} as const;

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
  const website = checkWebsite(fields.website);
  if (typeof website === 'object') return website;

  const request: CallRequest = { toPhoneNumber: phone.e164, objective };
  if (businessName !== undefined) request.businessName = businessName;
  if (website !== undefined) request.website = website;
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
  if (text.length > maxLength) {
    return refuse(field, `${field} is ${text.length} characters long, over the limit of ${maxLength}: shorten it.`);
  }
  return text;
}

/** The trimmed URL, undefined if absent, or why it is refused. The URL is never quoted: query strings carry tokens. */
function checkWebsite(value: unknown): string | Refusal | undefined {
  if (value === undefined) return undefined;
  const refuseWebsite = (problem: string) => refuse('website', `website ${problem}: ${advice.website}.`);
  if (typeof value !== 'string') return refuseWebsite(`must be a string, not ${describeType(value)}`);
  const text = value.trim();
  if (text.length > limits.websiteMaxLength) {
    return refuseWebsite(`is ${text.length} characters long, over the limit of ${limits.websiteMaxLength}`);
  }
  const url = URL.canParse(text) ? new URL(text) : undefined;
  if (!url) return refuseWebsite('is not a URL');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuseWebsite(`uses ${JSON.stringify(url.protocol)}, which the agent cannot fetch`);
  }
  if (url.hostname === '') return refuseWebsite('has no host name');
  return text;
}

function refuse(field: Refusal['field'], message: string): Refusal {
  return { ok: false, type: FailureType.InvalidInput, field, message };
}
