// The `campaign` commands of the starter CLI: their names, arguments, options and help. Each command's body is in
// the module of its group beside this one.
import { type Command, Option } from 'commander';
import { callTimeoutMs, createsPerWindow, pollIntervalMs, rateWindowMs } from '../../agentphone/contract';
import { maxTargetsFileBytes } from '../../domain/targets';
import { decisionNames, decisionRules } from '../../shared/decisions';
import { campaignOptions, retryableOutcomes } from '../../shared/campaign-types';
import { run } from '../connection';
import { callingWindow, duration, integer, names, retryDelays, retryOutcomes, timeZone } from '../options';
import { decide, decisionWords } from './decide';
import { showReport } from './report';
import { previewCampaign, startCampaign } from './start';
import { showStatus } from './status';

/** What a campaign resolves for the options left out, and their bounds: the help shows them, never restates them. */
const { maxConcurrentCalls, callsPerMinute, pilotCalls, approvalTimeout, retryAttempts } = campaignOptions;

/** The help of each decision's text option, by its field. */
const textHelp = { comment: 'recorded with the decision', reason: 'why (recorded)' } as const;

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
    .option(
      '--max-concurrent <n>',
      `calls in progress at once (default ${maxConcurrentCalls.default})`,
      integer(maxConcurrentCalls.min, maxConcurrentCalls.max),
    )
    .option(
      '--calls-per-minute <n>',
      `calls created in any ${rateWindowMs / 1000} s window (default ${callsPerMinute.default}; ` +
        `the API limit is ${createsPerWindow})`,
      integer(
        callsPerMinute.min,
        createsPerWindow,
        `the AgentPhone API creates at most ${createsPerWindow} calls a minute per key`,
      ),
    )
    .option(
      '--pilot <n>',
      'dial this many, then wait for a second approval with their outcomes',
      integer(1, pilotCalls.max),
    )
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
      `how long to wait for a decision before the campaign expires (default ${approvalTimeout.default})`,
      duration,
    )
    .option('--approvers <names>', 'comma-separated names: only they may approve or reject', names)
    .option(
      '--retry <outcomes>',
      `call a target again after these outcomes (${retryableOutcomes.join(', ')}), on the ladder below`,
      retryOutcomes,
    )
    .option(
      '--retry-delays <durations>',
      'waits before the 2nd, 3rd, … call, e.g. 4h,1d (the last repeats)',
      retryDelays,
    )
    .option(
      '--max-attempts <n>',
      `calls per target in all, the first included (${retryAttempts.min}–${retryAttempts.max})`,
      integer(retryAttempts.min, retryAttempts.max),
    )
    .option(
      '--id <workflowId>',
      'workflow id (default campaign-<name>-<random>); starting a finished id again dials nobody twice',
    )
    .addOption(
      new Option(
        '--poll-interval <duration>',
        `override the ${pollIntervalMs / 1000}s poll interval of every call (demos only)`,
      ).hideHelp(),
    )
    .addOption(
      new Option(
        '--call-timeout <duration>',
        `override the ${callTimeoutMs / 60_000}m timeout of every call (demos only)`,
      ).hideHelp(),
    )
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

  for (const name of decisionNames) {
    const { text } = decisionRules[name];
    const command = campaign
      .command(name)
      .description(decisionWords[name].help)
      .argument('<id>', 'campaign workflow id')
      .requiredOption('--by <name>', 'who decides (recorded in the campaign history)');
    if (text)
      command.addOption(new Option(`--${text.field} <text>`, textHelp[text.field]).makeOptionMandatory(text.required));
    command.option('--json', 'print the campaign progress as JSON').action(run(decide(name)));
  }

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
    .addHelpText(
      'after',
      '\nThe targets of a CSV campaign are read again from its file, at the path the campaign was started with.',
    )
    .action(run(showReport));
}
