import { z } from 'zod';

/** `POST /calls` → 202. */
export const createCallResponseSchema = z.object({
  data: z.object({
    call_id: z.string().min(1),
    status: z.string().min(1),
    created_at: z.string().optional(),
  }),
  credits_remaining: z.number().optional(),
});

/** `GET /calls/{id}` → 200. Enrichment fields arrive late, so all of them are optional. */
export const getCallResponseSchema = z.object({
  data: z.object({
    call_id: z.string().min(1),
    status: z.string().min(1),
    outcome: z.string().nullish(),
    summary: z.string().nullish(),
    transcript: z.string().nullish(),
    recording_url: z.string().nullish(),
    duration_seconds: z.number().nullish(),
    created_at: z.string().nullish(),
  }),
});

/** Error bodies are not specified by the contract; read a message where one is offered. */
export const errorBodySchema = z.object({
  error: z.union([z.string(), z.object({ code: z.string().optional(), message: z.string().optional() })]).optional(),
  message: z.string().optional(),
});
