import { type Client, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';
import type { callCampaignWorkflow } from '../workflows';
import {
  type CampaignInput,
  type CampaignProgress,
  childWorkflowId,
  type Decision,
  type TargetState,
  targetStateCodes,
} from '../shared/campaign-types';
import type { CallResult } from '../shared/call-types';
import { inlineRows, readTargetsCsv, validateTargets } from '../domain/targets';
import { campaignProgressQuery, campaignTargetsQuery } from '../shared/messages';
import { type TargetRefusal, type ValidTarget } from '../shared/targets';

export type CampaignHandle = WorkflowHandle<typeof callCampaignWorkflow>;

/** The campaign ended without a report: its workflow failed (e.g. the workers could not read the file), or was terminated. */
export class CampaignFailedError extends Error {
  override name = 'CampaignFailedError';

  constructor(
    readonly workflowId: string,
    readonly status: string,
    message: string,
  ) {
    super(message);
  }
}

/** The targets this machine reads are not the ones the campaign validated (another file at the path, or none). */
export class TargetsMismatchError extends Error {
  override name = 'TargetsMismatchError';
}

/**
 * The campaign's progress: the query while it runs, its result once it has completed (no worker needed then).
 * Throws {@link CampaignFailedError} when the workflow failed or was terminated, `WorkflowNotFoundError` for an unknown id.
 */
export async function campaignProgress(
  handle: CampaignHandle,
): Promise<{ progress: CampaignProgress; closed: boolean }> {
  const { status } = await handle.describe();
  if (status.name === 'RUNNING') return { progress: await handle.query(campaignProgressQuery), closed: false };
  if (status.name === 'COMPLETED') return { progress: await handle.result(), closed: true };
  throw await campaignFailure(handle, status.name);
}

/** Why a closed campaign has no result, read from its failure. */
export async function campaignFailure(handle: CampaignHandle, status: string): Promise<CampaignFailedError> {
  try {
    await handle.result();
  } catch (error) {
    return new CampaignFailedError(handle.workflowId, status, failureMessage(error));
  }
  return new CampaignFailedError(handle.workflowId, status, `the workflow is ${status.toLowerCase()}`);
}

/**
 * The sentence that says why: the first ApplicationFailure down the cause chain (a changed file fails an activity,
 * wrapped in its ActivityFailure), else the deepest cause's message (a termination's reason), never only the
 * client's "Workflow execution failed".
 */
function failureMessage(error: unknown): string {
  let deepest: unknown = error;
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof ApplicationFailure) return e.message;
    deepest = e;
  }
  return deepest instanceof Error ? deepest.message : String(deepest);
}

/** The argument the campaign's current run was started with (continue-as-new passes it on, with `carry`). */
export async function campaignStartInput(client: Client, workflowId: string): Promise<CampaignInput> {
  // One event is enough: the first of the run, WorkflowExecutionStarted, holds the input.
  const { history } = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId },
    maximumPageSize: 1,
  });
  const started = history?.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (!started) throw new Error(`the history of ${workflowId} does not start with WorkflowExecutionStarted.`);
  const [input] = await decodeArrayFromPayloads(client.options.loadedDataConverter, started.input?.payloads);
  return input as CampaignInput;
}

export interface CampaignTargets {
  valid: ValidTarget[];
  /** Every refusal when the source could be read again; else the first ones the campaign kept. */
  refusals: TargetRefusal[];
  /** Where the targets came from: the CSV path, or `inline`. */
  source: string;
}

/**
 * The campaign's targets, read again here with the same validation the workers ran: the CSV file at the path it was
 * started with (this machine must see it there), or the inline list. Throws {@link TargetsMismatchError} when what is
 * read here differs from what the campaign validated.
 */
export async function campaignTargets(
  input: CampaignInput,
  validation: CampaignProgress['validation'],
): Promise<CampaignTargets> {
  let result: CampaignTargets;
  if (input.carry?.inlineValid) {
    result = { valid: input.carry.inlineValid, refusals: input.carry.inspection.refusals, source: 'inline' };
  } else if (input.targets) {
    const { valid, refusals } = validateTargets(inlineRows(input.targets));
    result = { valid, refusals, source: 'inline' };
  } else if (input.targetsCsvPath) {
    const path = input.targetsCsvPath;
    const read = await readTargetsCsv(path);
    const approvedHash = input.carry?.inspection.sourceHash;
    if (approvedHash && approvedHash !== read.hash) {
      throw new TargetsMismatchError(`${path} here is not the file the campaign validated (its sha256 differs).`);
    }
    result = { valid: read.valid, refusals: read.refusals, source: path };
  } else {
    throw new TargetsMismatchError('the campaign was started with neither targets nor targetsCsvPath.');
  }
  if (
    validation &&
    (validation.valid !== result.valid.length ||
      (result.source !== 'inline' && validation.refused !== result.refusals.length))
  ) {
    throw new TargetsMismatchError(
      `${result.source} reads as ${result.valid.length} valid and ${result.refusals.length} refused here, ` +
        `but the campaign validated ${validation.valid} valid and ${validation.refused} refused.`,
    );
  }
  return result;
}

const stateOfCode = Object.fromEntries(Object.entries(targetStateCodes).map(([s, c]) => [c, s])) as Record<
  string,
  TargetState
>;

/** Every valid target's state and attempt number, read from the campaign in pages of 1,000. */
export async function targetStates(
  handle: CampaignHandle,
  pageSize = 1000,
): Promise<{ state: TargetState; attempt: number }[]> {
  const all: { state: TargetState; attempt: number }[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const page = await handle.query(campaignTargetsQuery, { offset, limit: pageSize });
    [...page.states].forEach((code, i) => {
      all.push({ state: stateOfCode[code] ?? 'pending', attempt: page.attempts[offset + i] ?? 1 });
    });
    if (page.states.length === 0 || offset + pageSize >= page.total) return all;
  }
}

/** One valid target in the report. */
export interface ReportRow {
  /** CSV line; inline targets have none (their key names them). */
  line?: number;
  key: string;
  id?: string;
  toPhoneNumber: string;
  businessName?: string;
  state: TargetState;
  /** The call's outcome, when it completed. */
  outcome?: CallResult['outcome'];
  /** The failure type, when the call workflow failed (CallFailed, CallTimedOut, …). */
  failure?: string;
  callId?: string;
  summary?: string;
  /** The call workflow of this target; absent when it was never dialed. */
  childWorkflowId?: string;
}

export interface CampaignReport {
  campaignId: string;
  name: string;
  state: CampaignProgress['state'];
  closed: boolean;
  counts: CampaignProgress['counts'];
  skippedByReason: Record<string, number>;
  failedByType: Record<string, number>;
  decisions: Decision[];
  source: string;
  targets: ReportRow[];
}

const concluded: TargetState[] = ['achieved', 'partial', 'not_achieved', 'failed', 'canceled', 'timed_out', 'unknown'];
const notDialed: TargetState[] = ['pending', 'skipped'];

/**
 * One row per valid target: where it came from, its state, and for a concluded call its outcome, call id and summary
 * from the call workflow's result (read `concurrency` at a time).
 */
export async function campaignReport(
  client: Client,
  workflowId: string,
  { concurrency = 16 } = {},
): Promise<CampaignReport> {
  const handle: CampaignHandle = client.workflow.getHandle(workflowId);
  const { progress, closed } = await campaignProgress(handle);
  const input = await campaignStartInput(client, workflowId);
  const [targets, states] = await Promise.all([campaignTargets(input, progress.validation), targetStates(handle)]);
  if (states.length !== targets.valid.length) {
    throw new TargetsMismatchError(
      `the campaign tracks ${states.length} targets, but ${targets.source} has ${targets.valid.length} valid here.`,
    );
  }
  const rows: ReportRow[] = targets.valid.map((vt, i) => {
    const { state, attempt } = states[i]!;
    return {
      ...(vt.line === undefined ? {} : { line: vt.line }),
      key: vt.key,
      ...(vt.target.id ? { id: vt.target.id } : {}),
      toPhoneNumber: vt.target.toPhoneNumber,
      ...(vt.target.businessName ? { businessName: vt.target.businessName } : {}),
      state,
      ...(notDialed.includes(state)
        ? {}
        : { childWorkflowId: childWorkflowId(progress.campaignId, vt.key, attempt, progress.childIds ?? 1) }),
    };
  });
  await forEachLimited(
    rows.filter((r) => concluded.includes(r.state) && r.childWorkflowId),
    concurrency,
    async (row) => Object.assign(row, await callOutcome(client, row.childWorkflowId!)),
  );
  return {
    campaignId: progress.campaignId,
    name: progress.name,
    state: progress.state,
    closed,
    counts: progress.counts,
    skippedByReason: progress.skippedByReason,
    failedByType: progress.failedByType,
    decisions: progress.decisions,
    source: targets.source,
    targets: rows,
  };
}

/** What a closed call workflow ended with: its result, or its failure type and the call id the failure names. */
async function callOutcome(client: Client, workflowId: string): Promise<Partial<ReportRow>> {
  try {
    const result = (await client.workflow.getHandle(workflowId).result()) as CallResult;
    return { outcome: result.outcome, callId: result.callId, ...(result.summary ? { summary: result.summary } : {}) };
  } catch (error) {
    if (!(error instanceof WorkflowFailedError))
      return { failure: `unreadable: ${error instanceof Error ? error.message : String(error)}` };
    const cause = error.cause;
    const type = cause instanceof ApplicationFailure ? (cause.type ?? 'Unknown') : (cause?.name ?? 'Unknown');
    const details =
      cause instanceof ApplicationFailure ? (cause.details?.[0] as { callId?: unknown } | undefined) : undefined;
    return { failure: type, ...(typeof details?.callId === 'string' ? { callId: details.callId } : {}) };
  }
}

async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

export const reportColumns = [
  'line',
  'key',
  'id',
  'to_phone_number',
  'business_name',
  'state',
  'outcome',
  'failure',
  'call_id',
  'summary',
  'child_workflow_id',
] as const;

/** The report as RFC 4180 CSV (CRLF line ends), one row per valid target, with the header {@link reportColumns}. */
export function reportCsv(rows: ReportRow[]): string {
  const lines = [reportColumns.join(',')];
  for (const r of rows) {
    lines.push(
      [
        r.line,
        r.key,
        r.id,
        r.toPhoneNumber,
        r.businessName,
        r.state,
        r.outcome,
        r.failure,
        r.callId,
        r.summary,
        r.childWorkflowId,
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * One CSV field (RFC 4180: quoted when it holds a comma, a quote, a line break or edge spaces; quotes doubled), and
 * never a formula: every cell of every column that starts with = + - @, a tab or a carriage return gets a `'` and
 * quotes, as OWASP advises for files opened in Excel or Sheets. Ids, call ids and summaries come from callers and
 * from the API alike; an E.164 number is escaped too, so a spreadsheet keeps its plus sign as text.
 */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) return `"'${text.replace(/"/g, '""')}"`;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
