import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import { Client, Connection, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { durationMs } from '../shared/timing';
import { createsPerWindow } from '../agentphone/contract';
import { ConfigError, loadClientConfig } from '../config';
import { isConnectionError } from './connection';
import { stripControls } from '../shared/redact';
import { resolveTiming } from '../shared/timing';
import type { callCampaignWorkflow } from '../workflows';
import type { CampaignInput, CampaignProgress, Decision, TargetState } from '../shared/campaign-types';
import { type CallingWindow, parseClock } from '../shared/calling-window';
import {
  type CampaignHandle,
  CampaignFailedError,
  campaignFailure,
  campaignProgress,
  campaignReport,
  campaignStartInput,
  campaignTargets,
  type ReportRow,
  reportCsv,
  TargetsMismatchError,
} from './report';
import { isTimeZone, maxTargetsFileBytes, readTargetsCsv, summarize, TargetsFileError } from '../domain/targets';
import {
  approveCampaignUpdate,
  campaignProgressQuery,
  cancelCampaignUpdate,
  pauseCampaignUpdate,
  rejectCampaignUpdate,
  resumeCampaignUpdate,
} from '../shared/messages';
import { type TargetRefusal } from '../shared/targets';

/** Exit codes: 0 ok, 1 a failure at the server (or of the campaign), 2 bad input or a refused decision. */
const exitCode = { ok: 0, failed: 1, badInput: 2 } as const;

/** How the commands are shown in hints: the package script that runs the starter CLI. */
const cli = 'npm run starter -- campaign';

/** Adds `campaign start | preview | approve | reject | pause | resume | cancel | status | report` to the starter CLI. */
export function addCampaignCommands(program: Command): void {
  const campaign = program
    .command('campaign')
    .description('Call a list of targets from a CSV file, behind a human approval (callCampaignWorkflow).');

  campaign
    .command('start')
    .description('Check a CSV file of targets, then start a campaign that waits for approval.')
    .requiredOption(
      '--file <path>',
      `CSV file of targets (UTF-8, at most ${maxTargetsFileBytes / 1024 / 1024} MB; ` +
        'columns to_phone_number, objective[, business_name, website, timezone, id])',
    )
    .option('--name <text>', 'campaign name, shown in the Web UI and the id (default: the file name)')
    .option('--max-concurrent <n>', 'calls in progress at once (default 5)', integer(1, 1000))
    .option(
      '--calls-per-minute <n>',
      `calls created in any 60 s window (default ${createsPerWindow}, the API limit)`,
      integer(1, createsPerWindow, `the AgentPhone API creates at most ${createsPerWindow} calls a minute per key`),
    )
    .option('--pilot <n>', 'dial this many, then wait for a second approval with their outcomes', integer(1, 10_000))
    .option(
      '--window <HH:MM-HH:MM>',
      "local hours in each target's timezone when calls may start, e.g. 08:00-21:00",
      callingWindow,
    )
    .option(
      '--default-timezone <zone>',
      'IANA zone for targets without one (with --window), e.g. America/New_York',
      timeZone,
    )
    .option(
      '--approval-timeout <duration>',
      'how long to wait for a decision before the campaign expires (default 24h)',
      duration,
    )
    .option('--approvers <names>', 'comma-separated names: only they may approve or reject', names)
    .option(
      '--id <workflowId>',
      'workflow id (default campaign-<name>-<random>); starting a finished id again dials nobody twice',
    )
    .addOption(
      new Option('--poll-interval <duration>', 'override the 10s poll interval of every call (demos only)').hideHelp(),
    )
    .addOption(new Option('--call-timeout <duration>', 'override the 5m timeout of every call (demos only)').hideHelp())
    .option('--json', 'print one JSON object instead of text')
    .addHelpText(
      'after',
      '\nThe file is checked here first; nothing starts if a row cannot be read. The workers read it again at the same\n' +
        'absolute path, so run this where the workers see the file (a shared volume or the same machine).',
    )
    .action(run(startCampaign));

  campaign
    .command('preview')
    .description('What the campaign found in its targets, and what awaits approval.')
    .argument('<id>', 'campaign workflow id')
    .option('--all', 'list every refused row (the campaign keeps the first 100; this re-reads the file here)')
    .option('--json', 'print one JSON object instead of text')
    .action(run(previewCampaign));

  const decision = (name: string, description: string) =>
    campaign
      .command(name)
      .description(description)
      .argument('<id>', 'campaign workflow id')
      .requiredOption('--by <name>', 'who decides (recorded in the campaign history)')
      .option('--json', 'print the campaign progress as JSON');
  decision('approve', 'Approve the campaign (or its pilot): dialing starts.')
    .option('--comment <text>', 'recorded with the approval')
    .action(run(decide('approve')));
  decision('reject', 'Reject the campaign: nobody is dialed.')
    .requiredOption('--reason <text>', 'why (recorded)')
    .action(run(decide('reject')));
  decision('pause', 'Stop dialing; calls in progress finish.')
    .option('--reason <text>', 'why (recorded)')
    .action(run(decide('pause')));
  decision('resume', 'Dial again after a pause (after a top-up when credits ran out).').action(run(decide('resume')));
  decision('cancel', 'End the campaign: nobody more is dialed; calls in progress finish and are reported.')
    .option('--reason <text>', 'why (recorded)')
    .action(run(decide('cancel')));

  campaign
    .command('status')
    .description('State, counts and ETA of a campaign.')
    .argument('<id>', 'campaign workflow id')
    .option('--watch', 'follow it every second until it ends')
    .option('--json', 'print JSON (with --watch, one line per change)')
    .action(run(showStatus));

  campaign
    .command('report')
    .description('One row per valid target: state, outcome, call id, summary and call workflow id; and the decisions.')
    .argument('<id>', 'campaign workflow id')
    .addOption(new Option('--csv <file>', 'write the rows to a CSV file').conflicts('json'))
    .option('--json', 'print one JSON object instead of text')
    .addHelpText('after', '\nThe targets are read again from the CSV file at the path the campaign was started with.')
    .action(run(showReport));
}

// ---- commands ---------------------------------------------------------------------------------------------------------

interface StartOptions {
  file: string;
  name?: string;
  maxConcurrent?: number;
  callsPerMinute?: number;
  pilot?: number;
  window?: Omit<CallingWindow, 'defaultTimezone'>;
  defaultTimezone?: string;
  approvalTimeout?: string;
  approvers?: string[];
  id?: string;
  pollInterval?: string;
  callTimeout?: string;
  json?: boolean;
}

async function startCampaign(opts: StartOptions): Promise<number> {
  const out = printer(opts.json);
  const path = resolve(opts.file);
  const name = (opts.name ?? basename(path, extname(path))).trim();
  const problems = [
    !name || name.length > 200 ? '--name must be 1–200 characters.' : undefined,
    opts.defaultTimezone && !opts.window ? '--default-timezone applies to --window: pass both.' : undefined,
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
  const timing = {
    ...(opts.pollInterval ? { pollInterval: opts.pollInterval as never } : {}),
    ...(opts.callTimeout ? { callTimeout: opts.callTimeout as never } : {}),
  };
  const input: CampaignInput = {
    name,
    targetsCsvPath: path,
    ...(opts.maxConcurrent === undefined ? {} : { maxConcurrentCalls: opts.maxConcurrent }),
    ...(opts.callsPerMinute === undefined ? {} : { callsPerMinute: opts.callsPerMinute }),
    ...(opts.pilot === undefined ? {} : { pilotCalls: opts.pilot }),
    ...(window ? { callingWindow: window } : {}),
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
  const workflowId = opts.id ?? `campaign-${slug(name)}-${randomUUID().slice(0, 8)}`;

  return withClient(async (client, taskQueue) => {
    try {
      await client.workflow.start<typeof callCampaignWorkflow>('callCampaignWorkflow', {
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
    out.started({ workflowId, name, path, input, inspection, withoutZone });
    return exitCode.ok;
  });
}

async function previewCampaign(id: string, opts: { all?: boolean; json?: boolean }): Promise<number> {
  return withClient(async (client) => {
    const handle: CampaignHandle = client.workflow.getHandle(id);
    const { progress } = await settledProgress(handle);
    const validation = progress.validation;
    let refusals = validation?.refusals ?? [];
    let refusalsComplete = refusals.length === (validation?.refused ?? 0);
    if (opts.all && !refusalsComplete) {
      const targets = await campaignTargets(await campaignStartInput(client, id), validation);
      refusals = targets.refusals;
      refusalsComplete = targets.source !== 'inline' || refusals.length === (validation?.refused ?? 0);
    }
    if (opts.json) {
      console.log(jsonText({ ...progress, refusals, refusalsComplete }));
      return exitCode.ok;
    }
    printPreview(progress, refusals, refusalsComplete);
    return exitCode.ok;
  });
}

type DecisionName = 'approve' | 'reject' | 'pause' | 'resume' | 'cancel';
interface DecisionOptions {
  by: string;
  comment?: string;
  reason?: string;
  json?: boolean;
}

function decide(action: DecisionName) {
  return (id: string, opts: DecisionOptions): Promise<number> =>
    withClient(async (client) => {
      const handle: CampaignHandle = client.workflow.getHandle(id);
      const by = opts.by;
      let progress: CampaignProgress;
      try {
        progress = await (action === 'approve'
          ? handle.executeUpdate(approveCampaignUpdate, {
              args: [{ by, ...(opts.comment ? { comment: opts.comment } : {}) }],
            })
          : action === 'reject'
            ? handle.executeUpdate(rejectCampaignUpdate, { args: [{ by, reason: opts.reason ?? '' }] })
            : action === 'pause'
              ? handle.executeUpdate(pauseCampaignUpdate, {
                  args: [{ by, ...(opts.reason ? { reason: opts.reason } : {}) }],
                })
              : action === 'resume'
                ? handle.executeUpdate(resumeCampaignUpdate, { args: [{ by }] })
                : handle.executeUpdate(cancelCampaignUpdate, {
                    args: [{ by, ...(opts.reason ? { reason: opts.reason } : {}) }],
                  }));
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError) {
          // The campaign's validator refused the decision: nothing was recorded.
          console.error(`Refused: ${stripControls(error.cause?.message ?? error.message)}`);
          return exitCode.badInput;
        }
        if (error instanceof WorkflowNotFoundError) return explainClosed(handle, action);
        throw error;
      }
      if (opts.json) console.log(jsonText(progress));
      else {
        console.log(`${pastTense[action]} by ${field(by)}: campaign ${field(id)} is ${describeState(progress)}.`);
        console.log(`  ${countsLine(progress.counts)}`);
        if (progress.state === 'running' || progress.state === 'paused')
          console.log(`Follow it: ${cli} status ${field(id)} --watch`);
      }
      return exitCode.ok;
    });
}

async function showStatus(id: string, opts: { watch?: boolean; json?: boolean }): Promise<number> {
  return withClient(async (client) => {
    const handle: CampaignHandle = client.workflow.getHandle(id);
    if (!opts.watch) {
      const { progress } = await campaignProgress(handle);
      if (opts.json) console.log(jsonText(progress));
      else printStatus(progress);
      return exitCode.ok;
    }
    return watch(handle, opts.json ?? false);
  });
}

async function showReport(id: string, opts: { csv?: string; json?: boolean }): Promise<number> {
  return withClient(async (client) => {
    const report = await campaignReport(client, id);
    if (opts.json) {
      console.log(jsonText(report));
      return exitCode.ok;
    }
    if (opts.csv) {
      const file = resolve(opts.csv);
      await writeFile(file, reportCsv(report.targets));
      console.log(`Wrote ${report.targets.length} rows to ${field(file)}`);
    }
    console.log(
      `Campaign ${field(report.name)} (${field(report.campaignId)}): ${field(report.state)}${report.closed ? '' : ' (still running)'}`,
    );
    console.log(`  ${countsLine(report.counts)}`);
    if (!opts.csv) printRows(report.targets);
    printDecisions(report.decisions);
    return exitCode.ok;
  });
}

// ---- waiting and watching ---------------------------------------------------------------------------------------------

/** The progress once the campaign has validated its targets (waits a little while it is still validating). */
async function settledProgress(handle: CampaignHandle, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await campaignProgress(handle);
    if (current.progress.state !== 'validating' || Date.now() > deadline) return current;
    await sleep(250);
  }
}

/** Redraws one progress line every second (plain lines when not a terminal) until the campaign's workflow ends. */
async function watch(handle: CampaignHandle, json: boolean): Promise<number> {
  const { status } = await handle.describe();
  if (status.name !== 'RUNNING' && status.name !== 'COMPLETED') throw await campaignFailure(handle, status.name);
  const tty = !json && Boolean(process.stdout.isTTY);
  let ended = false;
  const result = handle.result().then(
    (progress) => ({ progress }),
    (error: unknown) => ({ error }),
  );
  void result.then(() => (ended = true));
  let last = '';
  const show = (p: CampaignProgress) => {
    const text = json ? jsonText(p) : progressLine(p, tty);
    if (text === last) return;
    last = text;
    if (tty) process.stdout.write(`\r${fit(text)}\x1b[K`);
    else console.log(text);
  };
  while (!ended) {
    try {
      show(await handle.query(campaignProgressQuery));
    } catch {
      // Between runs (continue-as-new) or just closed: the next tick or the result says the rest.
    }
    await Promise.race([result, sleep(1000)]);
  }
  const outcome = await result;
  if ('progress' in outcome) {
    show(outcome.progress);
    if (tty) process.stdout.write('\n');
    if (!json) printStatus(outcome.progress);
    return exitCode.ok;
  }
  if (tty) process.stdout.write('\n');
  if (outcome.error instanceof WorkflowFailedError) throw await campaignFailure(handle, 'FAILED');
  throw outcome.error;
}

// ---- text output ------------------------------------------------------------------------------------------------------

interface StartedReport {
  workflowId: string;
  name: string;
  path: string;
  input: CampaignInput;
  inspection: ReturnType<typeof summarize>;
  withoutZone: number;
}

interface BadInput {
  message: string;
  line?: number;
  refusals?: TargetRefusal[];
  started: false;
}

function printer(json = false) {
  if (json) {
    return {
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
  }
  return {
    badInput: (failure: BadInput) => {
      if (failure.refusals?.length) {
        console.error('Refused (never called):');
        for (const r of failure.refusals) console.error(refusalLine(r));
      }
      console.error(`${field(failure.message)}\nNothing was started.`);
      return exitCode.badInput;
    },
    started: ({ workflowId, path, input, inspection, withoutZone }: StartedReport) => {
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
      console.log(
        `  pace            ${input.callsPerMinute ?? createsPerWindow} calls a minute, ${input.maxConcurrentCalls ?? 5} at a time`,
      );
      if (input.pilotCalls) console.log(`  pilot           ${input.pilotCalls} calls, then a second approval`);
      if (input.callingWindow) {
        const w = input.callingWindow;
        console.log(
          `  calling window  ${w.start}–${w.end} local time${w.defaultTimezone ? ` (default zone ${w.defaultTimezone})` : ''}`,
        );
      }
      console.log(
        `  approval        within ${input.approval?.timeout ?? '24h'}, by ${input.approval?.approvers?.map(field).join(' or ') ?? 'anyone'}`,
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
}

function printPreview(p: CampaignProgress, refusals: TargetRefusal[], complete: boolean): void {
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
  }
  console.log(
    `  credits needed  ${p.creditsNeeded ?? v?.valid ?? 0} (one a call)${p.creditsRemaining === undefined ? '' : `, ${p.creditsRemaining} left at the last call`}`,
  );
  console.log(`  pace            ${p.callsPerMinute} calls a minute, ${p.maxConcurrentCalls} at a time`);
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

function printStatus(p: CampaignProgress): void {
  const total = sum(p.counts);
  const concluded = total - p.counts.pending - p.counts.in_flight;
  console.log(`Campaign ${field(p.name)} (${field(p.campaignId)}): ${describeState(p)}`);
  console.log(
    `  targets   ${total} valid, ${concluded} concluded, ${p.counts.in_flight} in flight, ${p.counts.pending} pending`,
  );
  console.log(`  counts    ${countsLine(p.counts)}`);
  if (Object.keys(p.skippedByReason).length) console.log(`  skipped   ${byReason(p.skippedByReason)}`);
  if (Object.keys(p.failedByType).length) console.log(`  failed    ${byReason(p.failedByType)}`);
  console.log(
    `  credits   ${p.creditsNeeded ?? total} needed${p.creditsRemaining === undefined ? '' : `, ${p.creditsRemaining} left at the last call`}`,
  );
  console.log(`  pace      ${p.callsPerMinute} calls a minute, ${p.maxConcurrentCalls} at a time`);
  if (p.eta) console.log(`  ETA       ${field(p.eta)} (${fromNow(p.eta)})`);
  if (p.approvalDeadline) console.log(`  decide by ${field(p.approvalDeadline)} (${fromNow(p.approvalDeadline)})`);
  printDecisions(p.decisions);
}

function printDecisions(decisions: Decision[]): void {
  if (!decisions.length) return;
  console.log('Decisions:');
  for (const d of decisions)
    console.log(
      `  ${field(d.at)}  ${field(d.action).padEnd(10)} ${field(d.by)}${d.comment ? `: ${field(d.comment)}` : ''}`,
    );
}

function printRows(rows: ReportRow[]): void {
  const cells = rows.map((r) =>
    [
      String(r.line ?? ''),
      r.key,
      r.toPhoneNumber,
      r.businessName ?? '',
      r.state,
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
function progressLine(p: CampaignProgress, bar: boolean): string {
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

function countsLine(counts: Partial<CampaignProgress['counts']>): string {
  const parts = countOrder.filter((s) => (counts[s] ?? 0) > 0).map((s) => `${s.replace('_', ' ')} ${counts[s]}`);
  return parts.length ? parts.join(' · ') : 'no targets';
}

function describeState(p: CampaignProgress): string {
  if (p.state === 'awaiting_approval') return `awaiting ${p.gate === 'pilot' ? 'pilot ' : ''}approval`;
  if (p.state === 'paused' && p.pauseReason) return `paused (${field(p.pauseReason).replace(/_/g, ' ')})`;
  return field(p.state);
}

const pastTense: Record<DecisionName, string> = {
  approve: 'Approved',
  reject: 'Rejected',
  pause: 'Paused',
  resume: 'Resumed',
  cancel: 'Canceled',
};

function where(r: TargetRefusal): string {
  return r.line !== undefined ? `line ${r.line}` : `item ${r.index}`;
}

function refusalLine(r: TargetRefusal): string {
  return `  ${where(r)}: ${field(r.reason)}: ${field(r.message)}`;
}

/**
 * A data field (a name, an id, a summary, a message) as a terminal shows it, on one line: without the control
 * characters and escape sequences that could recolour, move the cursor or rewrite the screen.
 */
function field(value: string | number | undefined): string {
  return stripControls(String(value ?? ''))
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * JSON for a terminal: JSON.stringify escapes C0 controls but not C1 controls (U+009B starts an escape sequence on
 * some terminals) nor bidi overrides; escaping them too keeps the text a parser reads identical.
 */
function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function byReason(counts: Record<string, number | undefined>): string {
  return Object.entries(counts)
    .map(([reason, n]) => `${field(reason)} ${n}`)
    .join(', ');
}

function fromNow(iso: string): string {
  const ms = Date.parse(iso) - Date.now();
  if (!Number.isFinite(ms)) return field(iso);
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const span =
    minutes < 1 ? 'under a minute' : minutes < 90 ? `${minutes}m` : `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
  return ms >= 0 ? `in ${span}` : `${span} ago`;
}

function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function fit(text: string): string {
  const columns = process.stdout.columns ?? 120;
  return text.length >= columns ? `${text.slice(0, columns - 2)}…` : text;
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** The text printers, for tests that feed them hostile data. */
export const textPrinters = {
  started: printer(false).started,
  badInput: printer(false).badInput,
  preview: printPreview,
  status: printStatus,
  decisions: printDecisions,
  rows: printRows,
};

// ---- connection and errors --------------------------------------------------------------------------------------------

async function withClient(fn: (client: Client, taskQueue: string) => Promise<number>): Promise<number> {
  const { taskQueue } = loadClientConfig();
  const { connectionOptions, namespace } = loadClientConnectConfig();
  const connection = await Connection.connect(connectionOptions);
  try {
    return await fn(new Client({ connection, namespace }), taskQueue);
  } finally {
    await connection.close();
  }
}

/** Runs a command, turning the errors a user can act on into a message and an exit code. */
function run<A extends unknown[]>(command: (...args: A) => Promise<number>) {
  return async (...args: A): Promise<void> => {
    try {
      process.exitCode = await command(...args);
    } catch (error) {
      // The starter's main prints these, exit 2: bad configuration, or a Temporal it cannot reach.
      if (error instanceof ConfigError || isConnectionError(error)) throw error;
      if (error instanceof WorkflowNotFoundError) {
        console.error(
          `No campaign ${field(error.workflowId || '')} in this namespace: check the id (and TEMPORAL_NAMESPACE).`,
        );
        process.exitCode = exitCode.badInput;
      } else if (error instanceof TargetsFileError || error instanceof TargetsMismatchError) {
        console.error(
          `${stripControls(error.message)}\nRun this where the campaign's CSV file is at the path it was started with.`,
        );
        process.exitCode = exitCode.badInput;
      } else if (error instanceof CampaignFailedError) {
        console.error(
          `Campaign ${field(error.workflowId)} ${field(error.status.toLowerCase())}: ${stripControls(error.message)}`,
        );
        if (/^The targets cannot be used/.test(error.message)) {
          console.error(
            'The workers read the CSV file at the absolute path given to `campaign start`: they must see it there.',
          );
        }
        process.exitCode = exitCode.failed;
      } else {
        console.error(`Failed: ${stripControls(error instanceof Error ? error.message : String(error))}`);
        process.exitCode = exitCode.failed;
      }
    }
  };
}

/** An update reached a closed campaign: say how it ended. */
async function explainClosed(handle: CampaignHandle, action: DecisionName): Promise<number> {
  const { status } = await handle.describe();
  if (status.name === 'COMPLETED') {
    const progress = await handle.result();
    console.error(
      `Refused: cannot ${action} campaign ${field(handle.workflowId)}: it has ended (${field(progress.state)}).`,
    );
  } else {
    console.error(
      `Refused: cannot ${action} campaign ${field(handle.workflowId)}: its workflow is ${status.name.toLowerCase()}.`,
    );
  }
  return exitCode.badInput;
}

// ---- option parsers ---------------------------------------------------------------------------------------------------

function integer(min: number, max: number, why?: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max)
      throw new InvalidArgumentError(`a whole number from ${min} to ${max}${why ? `: ${why}` : ''}.`);
    return n;
  };
}

function callingWindow(value: string): Omit<CallingWindow, 'defaultTimezone'> {
  const match = /^(\d\d:\d\d)\s*-\s*(\d\d:\d\d)$/.exec(value.trim());
  if (!match || parseClock(match[1]!) === undefined || parseClock(match[2]!) === undefined || match[1] === match[2]) {
    throw new InvalidArgumentError('two different 24-hour times, e.g. 08:00-21:00 (22:00-06:00 wraps midnight).');
  }
  return { start: match[1]!, end: match[2]! };
}

function timeZone(value: string): string {
  if (!isTimeZone(value)) throw new InvalidArgumentError('an IANA zone such as America/New_York.');
  return value;
}

/** The durations the campaign accepts (it refuses others once started), by the campaign's own rule. */
function duration(value: string): string {
  const ms = durationMs(value);
  if (ms === undefined || ms < 1000) {
    throw new InvalidArgumentError('a duration of at least 1s such as 30m, 24h or 2d.');
  }
  return value.trim();
}

function names(value: string): string[] {
  const list = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  if (!list.length) throw new InvalidArgumentError('one or more names, separated by commas.');
  return list;
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
