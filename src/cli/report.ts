// The campaign's report: one row per valid target, with its state and its call's outcome, and the report as CSV.
// The targets come from where the campaign says it validated them (`progress.source`), never from its start's input.
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  type CampaignProgress,
  type CampaignSource,
  childWorkflowId,
  type Decision,
  type LadderAttempt,
  type TargetState,
  targetStateOfCode,
} from '../shared/campaign-types';
import { failureOf } from '../shared/failures';
import type { CallResult } from '../shared/call-types';
import { readTargetsCsv } from '../domain/targets';
import { campaignTargetsQuery } from '../shared/messages';
import type { TargetRefusal, ValidTarget } from '../shared/targets';
import { type CampaignHandle, campaignProgress } from './progress';

/** The targets this machine reads are not the ones the campaign validated (another file at the path, or none). */
export class TargetsMismatchError extends Error {
  override name = 'TargetsMismatchError';
}

/**
 * The campaign does not say where its targets came from: it is still validating them, or it ran on workers from
 * before campaigns recorded their source (a campaign closed before then never will).
 */
export class TargetsUnlistedError extends Error {
  override name = 'TargetsUnlistedError';

  constructor(
    readonly workflowId: string,
    validating: boolean,
  ) {
    super(
      validating
        ? `Campaign ${workflowId} is still checking its targets: run this again in a moment.`
        : `Campaign ${workflowId} does not say where its targets came from (it ran on workers from before campaigns ` +
            'recorded that): its targets cannot be listed.',
    );
  }
}

/** Where the campaign's targets came from, as it validated them; {@link TargetsUnlistedError} when it does not say. */
function sourceOf(progress: CampaignProgress): CampaignSource {
  if (!progress.source) throw new TargetsUnlistedError(progress.campaignId, progress.state === 'validating');
  return progress.source;
}

/**
 * Every refusal the campaign's source holds: a CSV file is read again here (the same file: its sha256 is checked);
 * an inline list's are the ones the campaign kept. `complete` says whether that is all of them.
 */
export async function campaignRefusals(
  progress: CampaignProgress,
): Promise<{ refusals: TargetRefusal[]; complete: boolean }> {
  const source = sourceOf(progress);
  const refusals = source.kind === 'csv' ? (await csvTargets(source)).refusals : (progress.validation?.refusals ?? []);
  return { refusals, complete: refusals.length === source.refused };
}

/**
 * A campaign's CSV file read here with the same validation the workers ran (this machine must see it at the same
 * path). Throws {@link TargetsMismatchError} when its bytes or what they validate to differ from what the campaign
 * validated.
 */
async function csvTargets(
  source: Extract<CampaignSource, { kind: 'csv' }>,
): Promise<{ valid: ValidTarget[]; refusals: TargetRefusal[] }> {
  const read = await readTargetsCsv(source.path);
  if (read.hash !== source.sha256) {
    throw new TargetsMismatchError(`${source.path} here is not the file the campaign validated (its sha256 differs).`);
  }
  if (read.valid.length !== source.valid || read.refusals.length !== source.refused) {
    throw new TargetsMismatchError(
      `${source.path} reads as ${read.valid.length} valid and ${read.refusals.length} refused here, ` +
        `but the campaign validated ${source.valid} valid and ${source.refused} refused.`,
    );
  }
  return read;
}

interface Tracked {
  state: TargetState;
  attempt: number;
  /** Its calls, when it entered the retry ladder. */
  ladder?: LadderAttempt[];
  /** Asked for an inline list: the target itself. */
  target?: ValidTarget;
}

/** Every valid target's state and attempt number (and, `withTargets`, the target), from the campaign in pages. */
async function trackedTargets(handle: CampaignHandle, withTargets: boolean, pageSize = 1000): Promise<Tracked[]> {
  const all: Tracked[] = [];
  for (let offset = 0; ; offset += pageSize) {
    const page = await handle.query(campaignTargetsQuery, {
      offset,
      limit: pageSize,
      ...(withTargets ? { withTargets } : {}),
    });
    if (withTargets && page.states.length && page.targets?.length !== page.states.length) {
      throw new TargetsMismatchError(
        `the workers of ${handle.workflowId} do not return its inline targets: run workers of this version.`,
      );
    }
    [...page.states].forEach((code, i) => {
      const target = page.targets?.[i];
      const ladder = page.ladders?.[offset + i];
      all.push({
        state: targetStateOfCode[code] ?? 'pending',
        attempt: page.attempts[offset + i] ?? 1,
        ...(ladder ? { ladder } : {}),
        ...(target ? { target } : {}),
      });
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
  /** Every call of a target on the retry ladder, first to last: when it ended, how, and its call id. */
  attempts?: LadderAttempt[];
}

interface CampaignReport {
  campaignId: string;
  name: string;
  state: CampaignProgress['state'];
  closed: boolean;
  counts: CampaignProgress['counts'];
  skippedByReason: Record<string, number>;
  failedByType: Record<string, number>;
  decisions: Decision[];
  /** The CSV file's path, or `inline`. */
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
  const source = sourceOf(progress);
  const [tracked, csv] = await Promise.all([
    trackedTargets(handle, source.kind === 'inline'),
    source.kind === 'csv' ? csvTargets(source) : undefined,
  ]);
  const valid = csv ? csv.valid : tracked.flatMap((t) => (t.target ? [t.target] : []));
  const shownSource = source.kind === 'csv' ? source.path : 'inline';
  if (tracked.length !== valid.length) {
    throw new TargetsMismatchError(
      `the campaign tracks ${tracked.length} targets, but ${shownSource} has ${valid.length} valid here.`,
    );
  }
  const rows: ReportRow[] = valid.map((vt, i) => {
    const { state, attempt, ladder } = tracked[i]!;
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
      ...(ladder ? { attempts: ladder } : {}),
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
    source: shownSource,
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
    const { type, details } = failureOf(error);
    // Not an ApplicationFailure (a termination, a timeout): the failure's class names it.
    const named = type === 'Unknown' && !(error.cause instanceof ApplicationFailure) ? error.cause?.name : type;
    const callId = (details[0] as { callId?: unknown } | undefined)?.callId;
    return { failure: named ?? 'Unknown', ...(typeof callId === 'string' ? { callId } : {}) };
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
  'attempts',
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
        r.attempts?.map(attemptText).join('; '),
      ]
        .map(csvField)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** A ladder's call in one field: `2 2026-12-02T09:00:00.000Z not_achieved cl_…` (attempt, end, state, call id). */
export function attemptText(a: LadderAttempt): string {
  return [a.attempt, a.at, a.state, a.callId].filter((v) => v !== undefined).join(' ');
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
