// `campaign start` and `campaign preview`: check a CSV file and start a campaign that waits for approval; show what
// it found and what awaits the decision.
import { randomUUID } from 'node:crypto';
import { basename, extname, resolve } from 'node:path';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { readTargetsCsv, summarize, TargetsFileError } from '../../domain/targets';
import type { CallingWindow } from '../../shared/calling-window';
import type { CampaignInput, RetryableOutcome } from '../../shared/campaign-types';
import { stripControls } from '../../shared/redact';
import { resolveTiming } from '../../shared/timing';
import type { callCampaignWorkflow } from '../../workflows';
import { exitCode, withClient } from '../connection';
import { printPreview, startPrinter } from '../print';
import { type CampaignHandle, settledProgress, startedProgress } from '../progress';
import { campaignRefusals } from '../report';
import { field, jsonText, plural } from '../terminal';

export interface StartOptions {
  file: string;
  name?: string;
  maxConcurrent?: number;
  callsPerMinute?: number;
  pilot?: number;
  window?: Omit<CallingWindow, 'defaultTimezone'>;
  defaultTimezone?: string;
  approvalTimeout?: string;
  approvers?: string[];
  retry?: RetryableOutcome[];
  retryDelays?: string[];
  maxAttempts?: number;
  id?: string;
  pollInterval?: string;
  callTimeout?: string;
  json?: boolean;
}

export async function startCampaign(opts: StartOptions): Promise<number> {
  const out = startPrinter(opts.json);
  const path = resolve(opts.file);
  const name = (opts.name ?? basename(path, extname(path))).trim();
  const problems = [
    !name || name.length > 200 ? '--name must be 1–200 characters.' : undefined,
    opts.defaultTimezone && !opts.window ? '--default-timezone applies to --window: pass both.' : undefined,
    [opts.retry, opts.retryDelays, opts.maxAttempts].some((o) => o !== undefined) &&
    [opts.retry, opts.retryDelays, opts.maxAttempts].some((o) => o === undefined)
      ? 'A retry ladder needs --retry, --retry-delays and --max-attempts together.'
      : undefined,
    ...timingProblems(opts),
  ].filter((p): p is string => p !== undefined);
  if (problems.length) return out.badInput({ message: problems.join(' '), started: false });

  let checked;
  try {
    checked = await readTargetsCsv(path);
  } catch (error) {
    if (!(error instanceof TargetsFileError)) throw error;
    // File-level refusals name the path already; line-level ones do not.
    const shownPath = stripControls(path);
    return out.badInput({
      message: error.message.startsWith(shownPath) ? error.message : `${shownPath}: ${error.message}`,
      ...(error.line ? { line: error.line } : {}),
      started: false,
    });
  }
  const inspection = summarize(
    checked.hash,
    checked.rows,
    checked.valid.length,
    checked.refusals,
    Number.POSITIVE_INFINITY,
  );
  if (checked.valid.length === 0) {
    const message = `${field(path)}: no row can be called (${plural(checked.rows, 'row')}, ${checked.refusals.length} refused).`;
    return out.badInput({ message, refusals: checked.refusals, started: false });
  }

  const window = opts.window && {
    ...opts.window,
    ...(opts.defaultTimezone ? { defaultTimezone: opts.defaultTimezone } : {}),
  };
  const withoutZone = window && !window.defaultTimezone ? checked.valid.filter((v) => !v.target.timezone).length : 0;
  const input = campaignInput(name, path, opts, window);
  const workflowId = opts.id ?? `campaign-${slug(name)}-${randomUUID().slice(0, 8)}`;

  return withClient(async (client, taskQueue) => {
    let handle: CampaignHandle;
    try {
      handle = await client.workflow.start<typeof callCampaignWorkflow>('callCampaignWorkflow', {
        args: [input],
        taskQueue,
        workflowId,
        staticSummary: `Campaign ${name}: ${checked.valid.length} targets from ${basename(path)}`,
        staticDetails: `File ${path}, ${checked.rows} rows, ${checked.refusals.length} refused at validation.`,
        memo: { campaign: name },
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      return out.badInput({ message: `campaign ${workflowId} is running already: pick another --id.`, started: false });
    }
    // The text shows the pace and deadline the campaign resolved, so it waits for a worker to run it; JSON prints
    // the input as sent and returns at once.
    const progress = opts.json ? undefined : await startedProgress(client, handle);
    out.started({ workflowId, name, path, input, inspection, withoutZone, ...(progress ? { progress } : {}) });
    return exitCode.ok;
  });
}

/** The campaign's argument: only the options given, so that the campaign resolves every default itself. */
function campaignInput(
  name: string,
  path: string,
  opts: StartOptions,
  window: CallingWindow | undefined,
): CampaignInput {
  const timing = {
    ...(opts.pollInterval ? { pollInterval: opts.pollInterval as never } : {}),
    ...(opts.callTimeout ? { callTimeout: opts.callTimeout as never } : {}),
  };
  return {
    name,
    targetsCsvPath: path,
    ...(opts.maxConcurrent === undefined ? {} : { maxConcurrentCalls: opts.maxConcurrent }),
    ...(opts.callsPerMinute === undefined ? {} : { callsPerMinute: opts.callsPerMinute }),
    ...(opts.pilot === undefined ? {} : { pilotCalls: opts.pilot }),
    ...(window ? { callingWindow: window } : {}),
    ...(opts.retry && opts.retryDelays && opts.maxAttempts
      ? { retry: { on: opts.retry, delays: opts.retryDelays, maxAttempts: opts.maxAttempts } }
      : {}),
    ...(opts.approvalTimeout || opts.approvers
      ? {
          approval: {
            ...(opts.approvalTimeout ? { timeout: opts.approvalTimeout } : {}),
            ...(opts.approvers ? { approvers: opts.approvers } : {}),
          },
        }
      : {}),
    ...(Object.keys(timing).length ? { timing } : {}),
  };
}

function timingProblems(opts: StartOptions): string[] {
  if (!opts.pollInterval && !opts.callTimeout) return [];
  const checked = resolveTiming({
    ...(opts.pollInterval ? { pollInterval: opts.pollInterval } : {}),
    ...(opts.callTimeout ? { callTimeout: opts.callTimeout } : {}),
  });
  return checked.ok ? [] : [checked.message];
}

function slug(name: string): string {
  const s = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '');
  return s || 'campaign';
}

export async function previewCampaign(id: string, opts: { all?: boolean; json?: boolean }): Promise<number> {
  return withClient(async (client) => {
    const handle: CampaignHandle = client.workflow.getHandle(id);
    const progress = await settledProgress(handle);
    const validation = progress.validation;
    let refusals = validation?.refusals ?? [];
    let refusalsComplete = refusals.length === (validation?.refused ?? 0);
    if (opts.all && !refusalsComplete) {
      ({ refusals, complete: refusalsComplete } = await campaignRefusals(progress));
    }
    if (opts.json) {
      console.log(jsonText({ ...progress, refusals, refusalsComplete }));
      return exitCode.ok;
    }
    printPreview(progress, refusals, refusalsComplete);
    return exitCode.ok;
  });
}
