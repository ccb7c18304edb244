import { z } from 'zod';

const e164 = /^\+[1-9]\d{1,14}$/;

const createCallBody = z.object(
  {
    to_phone_number: z
      .string({ error: 'to_phone_number is required and must be a string' })
      .regex(e164, 'to_phone_number must be in E.164 format, e.g. +14155551234'),
    objective: z
      .string({ error: 'objective is required and must be a string' })
      .refine((objective) => objective.trim() !== '', 'objective must not be empty'),
    business_name: z.string({ error: 'business_name must be a string' }).optional(),
    website: z.httpUrl({ error: 'website must be an http(s) URL' }).optional(),
  },
  { error: 'The body must be a JSON object' },
);

export type CreateCallInput = z.infer<typeof createCallBody>;

export type ParsedBody = { ok: true; input: CreateCallInput } | { ok: false; message: string };

/** Every problem is reported together, so a client fixes its request once. */
export function parseCreateCallBody(text: string): ParsedBody {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, message: 'The body must be valid JSON' };
  }
  const result = createCallBody.safeParse(json);
  if (result.success) return { ok: true, input: result.data };
  return { ok: false, message: result.error.issues.map((issue) => issue.message).join('; ') };
}

/** Two bodies are "the same" for idempotency when their fields are, whatever the key order or whitespace. */
export function fingerprintOf(input: CreateCallInput): string {
  return JSON.stringify([input.to_phone_number, input.objective, input.business_name, input.website]);
}
