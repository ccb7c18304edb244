import { randomUUID } from 'node:crypto';
import { type Client, type WorkflowHandle, WorkflowFailedError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { defaultTaskQueue } from './config';
import { failureOf, FailureType } from './shared/failures';
import { checkCallRequest } from './guardrails';
import { resolveTiming } from './shared/timing';
import type { doNotCallWorkflow, placeCallWorkflow } from './workflows';
import { type DncAnswer, type DncCommand, dncImportChunkRows } from './shared/do-not-call';
import type { CallResult, CallState, PlaceCallInput } from './shared/call-types';
import { callStateQuery } from './shared/messages';
import { maskPhoneNumber } from './shared/mask';

export { maskPhoneNumber, dncImportChunkRows };

/** Thrown by {@link startCall} before anything is started: the input breaks a guard rail. */
export class CallInputError extends Error {
  override name = 'CallInputError';

  constructor(
    readonly type: FailureType,
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

export interface StartCallOptions {
  /** A caller-chosen id (e.g. a request id) makes the start idempotent. @default `call-<uuid>` */
  workflowId?: string;
  /** @default 'agentphone' */
  taskQueue?: string;
}

export interface StartedCall {
  workflowId: string;
  handle: WorkflowHandle<typeof placeCallWorkflow>;
  /** True when a workflow with this id existed already: it was attached to, and no new call was placed. */
  alreadyStarted: boolean;
}

/**
 * Starts `placeCallWorkflow`, after checking the same guard rails the workflow checks (so a bad number fails here,
 * with nothing started). Starting an id that exists, running or closed, attaches to it instead: one id, one call.
 */
export async function startCall(
  client: Client,
  input: PlaceCallInput,
  options: StartCallOptions = {},
): Promise<StartedCall> {
  assertCallInput(input);
  const { workflowId = `call-${randomUUID()}`, taskQueue = defaultTaskQueue } = options;
  try {
    const handle = await client.workflow.start<typeof placeCallWorkflow>('placeCallWorkflow', {
      args: [input],
      taskQueue,
      workflowId,
      // A closed call is never placed again under the same id; a running one is attached to (below).
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `Call ${maskPhoneNumber(input.toPhoneNumber)}${input.businessName ? ` (${input.businessName})` : ''}`,
      staticDetails: input.objective,
      memo: { objective: input.objective, ...(input.businessName ? { businessName: input.businessName } : {}) },
    });
    return { workflowId, handle, alreadyStarted: false };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return {
      workflowId,
      handle: client.workflow.getHandle<typeof placeCallWorkflow>(workflowId),
      alreadyStarted: true,
    };
  }
}

export interface PlaceCallOptions extends StartCallOptions {
  /** Called whenever the live state changes (phase, status or polls). */
  onState?: (state: CallState) => void;
  /** How often the live state is queried while waiting. @default 1000 */
  watchIntervalMs?: number;
}

/** Starts a call (see {@link startCall}) and waits for its result. A failed call throws `WorkflowFailedError`. */
export async function placeCall(
  client: Client,
  input: PlaceCallInput,
  options: PlaceCallOptions = {},
): Promise<CallResult> {
  const { handle } = await startCall(client, input, options);
  return waitForCall(handle, options);
}

/** Waits for a started call, reporting its live state through `onState`. */
export async function waitForCall(
  handle: WorkflowHandle<typeof placeCallWorkflow>,
  { onState, watchIntervalMs = 1000 }: Pick<PlaceCallOptions, 'onState' | 'watchIntervalMs'> = {},
): Promise<CallResult> {
  const result = handle.result();
  if (!onState) return result;
  let done = false;
  let last = '';
  const watch = (async () => {
    while (!done) {
      try {
        const state = await handle.query(callStateQuery);
        const key = `${state.phase}|${state.lastStatus}|${state.polls}`;
        if (key !== last) onState(state);
        last = key;
      } catch {
        // Not yet picked up by a worker, or just closed: the result says the rest.
      }
      await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, watchIntervalMs))]);
    }
  })();
  try {
    return await result;
  } finally {
    done = true;
    await watch;
  }
}

/** The failure type of a call that did not complete, read through `WorkflowFailedError → ApplicationFailure`. */
export function callFailureOf(error: unknown): { type: FailureType; message: string; details: unknown[] } | undefined {
  if (!(error instanceof WorkflowFailedError)) return undefined;
  const { type, message, details, known } = failureOf(error);
  return known ? { type: type as FailureType, message, details } : undefined;
}

/** Throws {@link CallInputError} when `input` breaks a guard rail or has bad timing. */
export function assertCallInput(input: unknown): asserts input is PlaceCallInput {
  const verdict = checkCallRequest(input);
  if (!verdict.ok) throw new CallInputError(verdict.type, verdict.field, verdict.message);
  const timing = resolveTiming((input as PlaceCallInput).timing);
  if (!timing.ok) throw new CallInputError(FailureType.InvalidInput, 'timing', timing.message);
}

/**
 * Runs one command on the do-not-call list through the workers (doNotCallWorkflow), which hold the contact store:
 * `{ op: 'add', number, by, reason }`, `remove`, `check`, `list`, or `import` of up to a few thousand rows (the CLI
 * sends a file in chunks of {@link dncImportChunkRows}). Numbers are E.164; a bad one fails InvalidInput, nothing
 * written.
 */
export async function doNotCallList<C extends DncCommand>(
  client: Client,
  command: C,
  options: { taskQueue?: string } = {},
): Promise<Extract<DncAnswer, { op: C['op'] }>> {
  const { taskQueue = defaultTaskQueue } = options;
  const answer = await client.workflow.execute<typeof doNotCallWorkflow>('doNotCallWorkflow', {
    args: [command],
    taskQueue,
    workflowId: `dnc-${command.op}-${randomUUID()}`,
    staticSummary: `Do-not-call list: ${command.op}${'number' in command ? ` ${maskPhoneNumber(command.number)}` : ''}`,
  });
  return answer as Extract<DncAnswer, { op: C['op'] }>;
}
