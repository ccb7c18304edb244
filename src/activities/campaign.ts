import { readFile } from 'node:fs/promises';
import { activityInfo, getClient, heartbeat, log } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { type CallingWindow, windowStatus, type WindowStatus } from '../campaign/calling-window';
import {
  inlineRows,
  parseTargetsCsv,
  readTargetsCsv,
  sha256,
  summarize,
  TargetsFileError,
  type TargetsInspection,
  validateTargets,
  type ValidTarget,
} from '../campaign/targets';
import { FailureType } from '../failures';
import type { CallResult } from '../workflows/types';

export type InspectedTargets =
  | { ok: true; inspection: TargetsInspection; inlineValid?: ValidTarget[]; indexed: boolean }
  | { ok: false; message: string; line?: number };

export type ExistingCall = { result: CallResult } | { failureType: string; message: string };

/** How many refusals are kept in history; `campaign preview --all` re-reads the file for the rest. */
const refusalsKept = 100;

export function createCampaignActivities({ searchAttributes = false }: { searchAttributes?: boolean } = {}) {
  return {
    /**
     * Reads and validates every target once, before approval. Large lists stay out of history: only counts and the
     * first refusals are returned, with a hash of the file that later page reads must match.
     */
    async inspectCampaignTargets(source: { targetsCsvPath?: string; targets?: unknown }): Promise<InspectedTargets> {
      try {
        if (source.targetsCsvPath !== undefined) {
          const { hash, valid, refusals, rows } = await readTargetsCsv(source.targetsCsvPath);
          return { ok: true, inspection: summarize(hash, rows, valid.length, refusals, refusalsKept), indexed: searchAttributes };
        }
        const { valid, refusals, rows } = validateTargets(inlineRows(source.targets));
        const inspection = summarize('inline', rows, valid.length, refusals, refusalsKept);
        return { ok: true, inspection, inlineValid: valid, indexed: searchAttributes };
      } catch (error) {
        if (error instanceof TargetsFileError) return { ok: false, message: error.message, ...(error.line ? { line: error.line } : {}) };
        throw error;
      }
    },

    /** Valid targets [from, from + count) of the approved file; fails if the file changed since it was inspected. */
    async loadCampaignTargets(page: { targetsCsvPath: string; sourceHash: string; from: number; count: number }): Promise<ValidTarget[]> {
      let parsed;
      try {
        const bytes = await readFile(page.targetsCsvPath);
        if (sha256(bytes) !== page.sourceHash) {
          throw ApplicationFailure.create({
            type: FailureType.InvalidInput,
            message: `${page.targetsCsvPath} changed after it was validated and approved. Start a new campaign with the new file.`,
            nonRetryable: true,
          });
        }
        parsed = validateTargets(parseTargetsCsv(bytes));
      } catch (error) {
        if (error instanceof TargetsFileError) {
          throw ApplicationFailure.create({ type: FailureType.InvalidInput, message: error.message, nonRetryable: true });
        }
        throw error;
      }
      return parsed.valid.slice(page.from, page.from + page.count);
    },

    /** The calling window's status in each zone. In an activity, so that tz database updates never alter replay. */
    async callingWindows(query: { zones: string[]; window: CallingWindow; at: number }): Promise<Record<string, WindowStatus>> {
      return Object.fromEntries(query.zones.map((zone) => [zone, windowStatus(zone, query.window, query.at)]));
    },

    /**
     * The outcome of a call workflow that an earlier run of the same campaign started (the id exists already):
     * waits for it if it still runs. Never starts anything, so the target is never dialed twice.
     */
    async existingCallOutcome(workflowId: string): Promise<ExistingCall> {
      const handle = getClient().workflow.getHandle(workflowId);
      const beat = setInterval(() => heartbeat(), 5_000);
      try {
        return { result: (await handle.result()) as CallResult };
      } catch (error) {
        if (error instanceof WorkflowFailedError) {
          const cause = error.cause as ApplicationFailure | undefined;
          return { failureType: cause?.type ?? 'Unknown', message: cause?.message ?? error.message };
        }
        log.warn('could not read an existing call workflow', { workflowId, attempt: activityInfo().attempt });
        throw error;
      } finally {
        clearInterval(beat);
      }
    },
  };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
