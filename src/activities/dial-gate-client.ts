import { createHash } from 'node:crypto';
import { activityInfo, CompleteAsyncError, getClient, heartbeat, log, sleep } from '@temporalio/activity';
import { ActivityNotFoundError, type Client } from '@temporalio/client';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowNotFoundError,
} from '@temporalio/common';
import {
  type Ceiling,
  type Delivery,
  type Offer,
  type SlotPriority,
  type SlotRequest,
  type ClaimAnswer,
  claimDialSlotUpdate,
  dialClaimsQuery,
  dialGateWorkflowType,
  dialRateLimitedSignal,
  dialAnsweredSignal,
  releaseDialSlotUpdate,
  dialSlotQuery,
  requestDialSlotSignal,
} from '../shared/dial-gate';

/** Where the key's gate lives: every worker holding the key computes the same id from the same key. */
export interface DialGateConfig {
  /** AGENTPHONE_RATE_LIMIT. */
  ceiling: Ceiling;
  /** The task queue the gate workflow runs on (every worker polls it). */
  taskQueue: string;
  /** The key's fingerprint: a hash, so the id names the key without revealing it. */
  fingerprint: string;
}

export function gateWorkflowId(fingerprint: string): string {
  return `agentphone-dial-gate-${fingerprint}`;
}

/** How often a waiting caller of the old kind (with a heartbeat timeout, so not completed by the gate) looks. */
const pollMs = 250;

/** What a call asks of the gate; the rest (who asks, the ceiling) the activity adds. */
export interface SlotAsk {
  priority: SlotPriority;
  campaignId?: string;
  share?: number;
  cap?: Ceiling;
  /** Names the create within its run (`create-1`, and `create-2` after a 429), so both activities agree. */
  key: string;
}

/** The requester of one create of one run: hashed, so any workflow id makes a short, header-safe name. */
export function requesterOf(ask: Pick<SlotAsk, 'key'>): string {
  const { workflowExecution } = activityInfo();
  const scope = `${workflowExecution?.workflowId}\n${workflowExecution?.runId}\n${ask.key}`;
  return createHash('sha256').update(scope).digest('base64url').slice(0, 22);
}

/** The activity side of the gate: messages to the key's gate workflow, starting it when it does not exist yet. */
export function dialGate(client: Client, config: DialGateConfig) {
  const workflowId = gateWorkflowId(config.fingerprint);
  const handle = () => client.workflow.getHandle(workflowId);

  const gateSummary = `Dial gate of API key ${config.fingerprint}: ${config.ceiling.count} creates per ${config.ceiling.windowMs / 1000}s`;

  async function ensureStarted(): Promise<void> {
    try {
      await client.workflow.start(dialGateWorkflowType, {
        workflowId,
        taskQueue: config.taskQueue,
        args: [{ ceiling: config.ceiling }],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        staticSummary: gateSummary,
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
  }

  /** Runs `send` against the gate, starting it first if it is missing or was closed (terminated by an operator). */
  async function withGate<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (!isMissing(error)) throw error;
      await ensureStarted();
      return send();
    }
  }

  function requestOf(ask: SlotAsk, taskToken?: Uint8Array): SlotRequest {
    return {
      requester: requesterOf(ask),
      priority: ask.priority,
      ceiling: config.ceiling,
      ...(ask.campaignId === undefined ? {} : { campaignId: ask.campaignId }),
      ...(ask.share === undefined ? {} : { share: ask.share }),
      ...(ask.cap === undefined ? {} : { cap: ask.cap }),
      ...(taskToken ? { taskToken: Buffer.from(taskToken).toString('base64') } : {}),
    };
  }

  function join(request: SlotRequest) {
    return client.workflow.signalWithStart(dialGateWorkflowType, {
      workflowId,
      taskQueue: config.taskQueue,
      args: [{ ceiling: config.ceiling }],
      signal: requestDialSlotSignal,
      signalArgs: [request],
      staticSummary: gateSummary,
    });
  }

  return {
    ceiling: config.ceiling,

    /**
     * Joins the line and leaves this activity to the gate, which completes it with the offer: the caller neither
     * polls nor holds a worker slot while it waits. Safe to repeat: a retry (after the activity's start-to-close
     * timeout, say the gate was terminated) asks again with its own token and keeps its place in line.
     */
    async awaitOffer(ask: SlotAsk): Promise<never> {
      await join(requestOf(ask, activityInfo().taskToken));
      throw new CompleteAsyncError();
    },

    /** Waits in line for a slot (heartbeating), and returns the offer. Safe to repeat: the place in line is kept. */
    async request(ask: SlotAsk): Promise<Offer> {
      const request = requestOf(ask);
      const beat = setInterval(() => heartbeat({ waitingForSlot: true }), 5_000);
      try {
        await join(request);
        // Looks by query (no history) until the slot is offered. The offer comes a little ahead of its slot, and the
        // claim waits for the slot's time, so looking every quarter second costs no throughput.
        for (let unknown = 0; ;) {
          await sleep(pollMs);
          const status = await handle().query(dialSlotQuery, request.requester);
          if (status.kind === 'offer') return status.offer;
          // Not in line: the signal is not processed yet, or the gate was terminated and started anew.
          if (status.kind === 'unknown' && ++unknown >= 4) {
            unknown = 0;
            await join(request);
          }
        }
      } finally {
        clearInterval(beat);
      }
    },

    /** The point of no return, right before the create is sent. */
    async claim(offer: Offer): Promise<ClaimAnswer> {
      const send = () =>
        withGate(() =>
          handle().executeUpdate(claimDialSlotUpdate, {
            args: [{ offerId: offer.offerId, attempt: activityInfo().attempt }],
            updateId: `${offer.offerId}:${activityInfo().attempt}`,
          }),
        );
      // The server admits only a few updates to one workflow at a time; a claim is answered within one task, so a
      // refusal for that reason is worth a moment's wait, not a failed attempt. So is an update aborted because the
      // gate continued as new meanwhile: sent again (same update id), the next run answers it, `lapsed` at worst.
      for (let tries = 1; ; tries++) {
        try {
          return await send();
        } catch (error) {
          if (tries >= 40 || !isBusy(error)) throw error;
          await sleep(50 + Math.floor(Math.random() * 100));
        }
      }
    },

    /** A claimed create that never left the worker: its retry is not ambiguous. */
    async release(requester: string): Promise<void> {
      await withGate(() =>
        handle().executeUpdate(releaseDialSlotUpdate, { args: [{ requester, attempt: activityInfo().attempt }] }),
      );
    },

    /** Attempts of this create that claimed a slot and did not release it: each may have reached the API. */
    async claimsOf(requester: string): Promise<number[]> {
      try {
        return await handle().query(dialClaimsQuery, requester);
      } catch (error) {
        if (isMissing(error)) return [];
        throw error;
      }
    },

    /** Tells the gate when the claimed create's answer came back. Best effort: without it, its slot waits 20 s. */
    async answered(requester: string, at: number): Promise<void> {
      await handle()
        .signal(dialAnsweredSignal, { requester, at })
        .catch((error: unknown) =>
          log.warn('could not tell the dial gate a create was answered', { error: String(error) }),
        );
    },

    /** The API answered 429 anyway: every dialer of the key waits out one back-off. Best effort. */
    async rateLimited(backOffMs: number): Promise<void> {
      await withGate(() => handle().signal(dialRateLimitedSignal, { backOffMs })).catch((error: unknown) =>
        log.warn('could not tell the dial gate about a 429', { error: String(error) }),
      );
    },
  };
}

export type DialGate = ReturnType<typeof dialGate>;

/**
 * The gate's own activity (a local activity of the gate workflow): hands each offer to the activity waiting for it.
 * 'gone': that activity no longer waits (timed out and retried, or its workflow closed); 'retry': try again soon.
 */
export function createDialGateActivities() {
  return {
    async deliverDialOffers(deliveries: Delivery[]): Promise<('delivered' | 'gone' | 'retry')[]> {
      const client = getClient();
      return Promise.all(
        deliveries.map(async ({ taskToken, offer }) => {
          try {
            await client.activity.complete(Buffer.from(taskToken, 'base64'), offer);
            return 'delivered' as const;
          } catch (error) {
            if (error instanceof ActivityNotFoundError) return 'gone' as const;
            log.warn('could not hand a dial slot to its caller', { error: String(error) });
            return 'retry' as const;
          }
        }),
      );
    },
  };
}

function isBusy(error: unknown): boolean {
  const text =
    error instanceof Error ? `${error.message} ${String((error.cause as Error | undefined)?.message ?? '')}` : '';
  return /in-flight update|RESOURCE_EXHAUSTED|resource exhausted|limit on number of|update was aborted/i.test(text);
}

function isMissing(error: unknown): boolean {
  if (error instanceof WorkflowNotFoundError) return true;
  const text =
    error instanceof Error ? `${error.message} ${String((error.cause as Error | undefined)?.message ?? '')}` : '';
  return /not found|already completed|workflow execution already completed/i.test(text);
}
