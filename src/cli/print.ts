// What the campaign commands print: text for people, one JSON document for scripts (`--json`). Every data field goes
// through `field` or `jsonText` (./terminal), so a hostile name, summary or path cannot drive the terminal.
import type { CampaignInput, CampaignProgress, Decision, TargetState } from '../shared/campaign-types';
import type { PolicyPreview, TargetRefusal, TargetsInspection } from '../shared/targets';
import { exitCode } from './connection';
import type { ReportRow } from './report';
import { cli, field, fromNow, jsonText, oneLine, plural } from './terminal';

/** What `start` checked and started. */
export interface StartedReport {
  workflowId: string;
  name: string;
  path: string;
  input: CampaignInput;
  inspection: TargetsInspection;
  withoutZone: number;
  /** The campaign's progress once a worker has run it: the pace and deadline it resolved. Absent until then. */
  progress?: CampaignProgress;
}

/** Why `start` started nothing. */
export interface BadInput {
  message: string;
  line?: number;
  refusals?: TargetRefusal[];
  started: false;
}

/** The two outcomes of `start`, as text or JSON; `badInput` returns the exit code. */
export function startPrinter(json = false) {
  return json ? startJson : startText;
}

const startJson = {
  badInput: (failure: BadInput) => {
    console.log(jsonText({ failure: { type: 'InvalidInput', ...failure } }));
    return exitCode.badInput;
  },
  started: ({ workflowId, name, path, input, inspection, withoutZone }: StartedReport) => {
    const { sourceHash: _, ...checked } = inspection;
    console.log(
      jsonText({
        workflowId,
        name,
        targetsCsvPath: path,
        ...checked,
        creditsNeeded: checked.valid,
        ...(withoutZone ? { withoutTimezone: withoutZone } : {}),
        input: { ...input, name: undefined, targetsCsvPath: undefined },
      }),
    );
  },
};

const startText = {
  badInput: (failure: BadInput) => {
    if (failure.refusals?.length) {
      console.error('Refused (never called):');
      for (const r of failure.refusals) console.error(refusalLine(r));
    }
    console.error(`${field(failure.message)}\nNothing was started.`);
    return exitCode.badInput;
  },
  started: ({ workflowId, path, input, inspection, withoutZone, progress }: StartedReport) => {
    console.log(
      `Checked ${field(path)}: ${plural(inspection.rows, 'row')}, ${inspection.valid} valid, ${inspection.refused} refused`,
    );
    if (inspection.refused) {
      console.log('Refused (never called):');
      for (const r of inspection.refusals) console.log(refusalLine(r));
    }
    const id = field(workflowId);
    console.log(`\nStarted campaign ${id}`);
    console.log(`  valid targets   ${inspection.valid}`);
    console.log(
      `  refused         ${inspection.refused}${inspection.refused ? ` (${byReason(inspection.refusedByReason)})` : ''}`,
    );
    console.log(`  credits needed  ${inspection.valid} (one a call)`);
    console.log(`  pace            ${progress ? paceOf(progress) : 'not known yet: no worker has run the campaign'}`);
    if (input.pilotCalls) console.log(`  pilot           ${input.pilotCalls} calls, then a second approval`);
    if (input.callingWindow) {
      const w = input.callingWindow;
      console.log(
        `  calling window  ${w.start}–${w.end} local time${w.defaultTimezone ? ` (default zone ${w.defaultTimezone})` : ''}`,
      );
    }
    if (input.retry) {
      const r = input.retry;
      console.log(
        `  retry ladder    after ${r.on.join(' or ')}: again in ${r.delays.join(', then ')}; up to ${r.maxAttempts} calls`,
      );
    }
    const deadline = progress?.approvalDeadline;
    console.log(
      `  approval        by ${input.approval?.approvers?.map(field).join(' or ') ?? 'anyone'}` +
        (deadline ? `, before ${field(deadline)} (${fromNow(deadline)})` : ''),
    );
    if (withoutZone) {
      console.log(
        `\nWarning: no timezone for ${plural(withoutZone, 'valid target')}: they are skipped (never dialed blind) ` +
          'unless --default-timezone is given. Cancel and start again to change that.',
      );
    }
    console.log(`\nNothing is dialed until someone approves:`);
    console.log(`  ${cli} preview ${id}`);
    console.log(`  ${cli} approve ${id} --by <your name> [--comment …]`);
    console.log(`  ${cli} reject ${id} --by <your name> --reason …`);
  },
};

export function printPreview(p: CampaignProgress, refusals: TargetRefusal[], complete: boolean): void {
  const v = p.validation;
  const id = field(p.campaignId);
  console.log(`Campaign ${field(p.name)} (${id}): ${describeState(p)}`);
  if (p.state === 'validating') {
    console.log('  The workers are still checking the targets: run preview again in a moment.');
    return;
  }
  if (v) {
    console.log(`  rows            ${v.rows}`);
    console.log(`  valid           ${v.valid}`);
    console.log(`  refused         ${v.refused}${v.refused ? ` (${byReason(v.refusedByReason)})` : ''}`);
    if (v.policy) printPolicyPreview(v.policy);
  }
  console.log(
    `  credits needed  ${p.creditsNeeded ?? v?.valid ?? 0} (one a call)${p.creditsRemaining === undefined ? '' : `, ${p.creditsRemaining} left at the last call`}`,
  );
  console.log(`  pace            ${paceOf(p)}`);
  if (p.pilot) {
    const { pending: _p, in_flight: _f, ...concluded } = p.pilot.counts ?? {};
    const done = p.pilot.counts ? `; so far ${countsLine(concluded)}` : '';
    console.log(`  pilot           ${p.pilot.calls} calls, then a second approval${done}`);
    if (p.gate === 'pilot') console.log(`                  the pilot calls, one by one: ${cli} report ${id}`);
  }
  if (p.approvalDeadline)
    console.log(`  decide by       ${field(p.approvalDeadline)} (${fromNow(p.approvalDeadline)})`);
  if (refusals.length) {
    console.log('Refused (never called):');
    for (const r of refusals) console.log(refusalLine(r));
    if (!complete) console.log(`  … ${(v?.refused ?? 0) - refusals.length} more: ${cli} preview ${id} --all`);
  }
  if (p.state === 'awaiting_approval') {
    console.log(`\n${cli} approve ${id} --by <your name> [--comment …]`);
    console.log(`${cli} reject ${id} --by <your name> --reason …`);
  }
}

/** What the contact policy said of the valid targets at validation: each dial asks it again. */
function printPolicyPreview(policy: PolicyPreview): void {
  if (policy.unavailable) {
    console.log(`  contact policy  not checked: ${field(policy.unavailable)}; every dial is still checked`);
    return;
  }
  console.log(
    `  contact policy  ${policy.doNotCall} on the do-not-call list (skipped do_not_call at dial time), ` +
      `${policy.capped} over a frequency cap now (deferred, never dialed early), as of ${field(policy.at)}`,
  );
  for (const [cap, n] of Object.entries(policy.cappedBy)) console.log(`                  ${n} by ${field(cap)}`);
  if (policy.cappedUntil) console.log(`                  the last allowed at ${field(policy.cappedUntil)}`);
  const hours = policy.recipientHours;
  if (hours?.applied) {
    console.log(
      `  calling hours   each recipient's, by number, within the campaign's window` +
        (hours.noTimezone ? `; ${hours.noTimezone} with no zone that can be told (skipped no_timezone)` : ''),
    );
  } else if (hours)
    console.log("  calling hours   the campaign's window alone (the policy's hours.campaigns is false)");
}

export function printStatus(p: CampaignProgress): void {
  const total = sum(p.counts);
  const concluded = total - p.counts.pending - p.counts.in_flight;
  console.log(`Campaign ${field(p.name)} (${field(p.campaignId)}): ${describeState(p)}`);
  console.log(
    `  targets   ${total} valid, ${concluded} concluded, ${p.counts.in_flight} in flight, ${p.counts.pending} pending`,
  );
  console.log(`  counts    ${countsLine(p.counts)}`);
  if (Object.keys(p.skippedByReason).length) console.log(`  skipped   ${byReason(p.skippedByReason)}`);
  if (Object.keys(p.failedByType).length) console.log(`  failed    ${byReason(p.failedByType)}`);
  if (p.retrying) {
    console.log(
      `  retrying  ${p.retrying.count} waiting for their next call, the first at ${field(p.retrying.nextAt)}`,
    );
  }
  if (p.deferred) {
    console.log(
      `  deferred  ${p.deferred.count} held by the contact policy's caps, the first until ${field(p.deferred.nextAt)}`,
    );
  }
  console.log(
    `  credits   ${p.creditsNeeded ?? total} needed${p.creditsRemaining === undefined ? '' : `, ${p.creditsRemaining} left at the last call`}`,
  );
  console.log(`  pace      ${paceOf(p)}`);
  if (p.eta) console.log(`  ETA       ${field(p.eta)} (${fromNow(p.eta)})`);
  if (p.approvalDeadline) console.log(`  decide by ${field(p.approvalDeadline)} (${fromNow(p.approvalDeadline)})`);
  printDecisions(p.decisions);
}

/** A decision the campaign accepted (`done` is its word: "Approved"), and where the campaign is now. */
export function printDecided(done: string, by: string, id: string, p: CampaignProgress): void {
  console.log(`${done} by ${field(by)}: campaign ${field(id)} is ${describeState(p)}.`);
  console.log(`  ${countsLine(p.counts)}`);
  if (p.state === 'running' || p.state === 'paused') console.log(`Follow it: ${cli} status ${field(id)} --watch`);
}

export function printDecisions(decisions: Decision[]): void {
  if (!decisions.length) return;
  console.log('Decisions:');
  for (const d of decisions)
    console.log(
      `  ${field(d.at)}  ${field(d.action).padEnd(10)} ${field(d.by)}${d.comment ? `: ${field(d.comment)}` : ''}`,
    );
}

export function printRows(rows: ReportRow[]): void {
  const cells = rows.map((r) =>
    [
      String(r.line ?? ''),
      r.key,
      r.toPhoneNumber,
      r.businessName ?? '',
      r.attempts ? `${r.state} (${plural(r.attempts.length, 'call')})` : r.state,
      r.outcome ?? r.failure ?? '',
      r.callId ?? '',
      oneLine(field(r.summary), 60),
    ].map(field),
  );
  const header = ['line', 'key', 'number', 'business', 'state', 'outcome', 'call id', 'summary'];
  const widths = header.map((h, i) => Math.min(40, Math.max(h.length, ...cells.map((c) => c[i]!.length))));
  const format = (c: string[]) =>
    c.map((v, i) => (i === c.length - 1 ? v : oneLine(v, widths[i]!).padEnd(widths[i]!))).join('  ');
  console.log(format(header));
  for (const c of cells) console.log(format(c));
}

/** One line of progress: a bar on a terminal, words otherwise. */
export function progressLine(p: CampaignProgress, bar: boolean): string {
  const total = sum(p.counts);
  const concluded = total - p.counts.pending - p.counts.in_flight;
  const width = 24;
  const filled = total ? Math.round((concluded / total) * width) : 0;
  const drawn = bar ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : '';
  const eta = p.eta ? ` · ETA ${fromNow(p.eta)}` : '';
  return `${describeState(p)} ${drawn}${concluded}/${total} concluded · ${countsLine(p.counts)}${eta}`;
}

const countOrder: TargetState[] = [
  'achieved',
  'partial',
  'not_achieved',
  'failed',
  'canceled',
  'timed_out',
  'skipped',
  'in_flight',
  'pending',
];

export function countsLine(counts: Partial<CampaignProgress['counts']>): string {
  const parts = countOrder.filter((s) => (counts[s] ?? 0) > 0).map((s) => `${s.replace('_', ' ')} ${counts[s]}`);
  return parts.length ? parts.join(' · ') : 'no targets';
}

/** The pace the campaign resolved (its defaults included): never guessed here. */
function paceOf(p: CampaignProgress): string {
  return `${p.callsPerMinute} calls a minute, ${p.maxConcurrentCalls} at a time`;
}

function describeState(p: CampaignProgress): string {
  if (p.state === 'awaiting_approval') return `awaiting ${p.gate === 'pilot' ? 'pilot ' : ''}approval`;
  if (p.state === 'paused' && p.pauseReason) return `paused (${field(p.pauseReason).replace(/_/g, ' ')})`;
  return field(p.state);
}

function where(r: TargetRefusal): string {
  return r.line !== undefined ? `line ${r.line}` : `item ${r.index}`;
}

function refusalLine(r: TargetRefusal): string {
  return `  ${where(r)}: ${field(r.reason)}: ${field(r.message)}`;
}

function byReason(counts: Record<string, number | undefined>): string {
  return Object.entries(counts)
    .map(([reason, n]) => `${field(reason)} ${n}`)
    .join(', ');
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** The text printers, for tests that feed them hostile data. */
export const textPrinters = {
  started: startText.started,
  badInput: startText.badInput,
  preview: printPreview,
  status: printStatus,
  decisions: printDecisions,
  rows: printRows,
};
