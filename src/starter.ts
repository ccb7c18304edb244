import { inspect } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Command, InvalidArgumentError, Option } from 'commander';
import { addCampaignCommands } from './cli/commands';
import { addDoNotCallCommands } from './cli/commands/dnc';
import { CallInputError, callFailureOf, startCall, waitForCall } from './calls';
import { ConfigError, loadClientConfig } from './config';
import { dataConverterFor } from './encryption/codec';
import { isConnectionError } from './cli/connection';
import { messageText } from './cli/terminal';
import { type FailureType, nextStep } from './shared/failures';
import type { CallResult, CallState, PlaceCallInput } from './shared/call-types';

/** Exit codes: 0 completed, 1 the call failed, 2 bad input or configuration (nothing was started). */
const exitCode = { ok: 0, callFailed: 1, badInput: 2 } as const;

export function buildProgram(): Command {
  const program = new Command('starter')
    .description('Start AgentPhone calls on Temporal and follow them.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('call')
    .description('Place one call (placeCallWorkflow) and wait for its result.')
    .requiredOption('--to <e164>', 'number to call, in E.164 form (e.g. +14155551234)')
    .requiredOption('--objective <text>', 'what the agent should achieve on the call')
    .option('--business-name <name>', 'name of the business being called')
    .option('--website <url>', 'website the agent reads for context before calling')
    .option('--id <workflowId>', 'workflow id; starting the same id twice never places a second call', workflowIdOption)
    .option('--recipient-hours', "wait for the recipient's local calling hours (by its number) before dialing")
    .addOption(new Option('--poll-interval <duration>', 'override the 10s poll interval (demos only)').hideHelp())
    .addOption(new Option('--call-timeout <duration>', 'override the 5m call timeout (demos only)').hideHelp())
    .option('--no-wait', 'print the workflow id and return at once')
    .option('--json', 'print one JSON object instead of text')
    .action(async (opts: CallOptions) => {
      process.exitCode = await runCall(opts);
    });

  addCampaignCommands(program);
  addDoNotCallCommands(program);
  return program;
}

interface CallOptions {
  to: string;
  objective: string;
  businessName?: string;
  website?: string;
  id?: string;
  pollInterval?: string;
  callTimeout?: string;
  wait: boolean;
  json?: boolean;
  recipientHours?: boolean;
}

async function runCall(opts: CallOptions): Promise<number> {
  const input: PlaceCallInput = {
    toPhoneNumber: opts.to,
    objective: opts.objective,
    ...(opts.businessName === undefined ? {} : { businessName: opts.businessName }),
    ...(opts.website === undefined ? {} : { website: opts.website }),
    ...(opts.recipientHours ? { callingHours: 'recipient' as const } : {}),
    ...(opts.pollInterval || opts.callTimeout
      ? {
          timing: {
            ...(opts.pollInterval ? { pollInterval: opts.pollInterval as never } : {}),
            ...(opts.callTimeout ? { callTimeout: opts.callTimeout as never } : {}),
          },
        }
      : {}),
  };
  const out = output(opts.json);
  const { taskQueue, encryption } = loadClientConfig();
  const { connectionOptions, namespace } = loadClientConnectConfig();

  let started;
  const connection = await Connection.connect(connectionOptions);
  try {
    const client = new Client({ connection, namespace, dataConverter: dataConverterFor(encryption) });
    try {
      started = await startCall(client, input, { taskQueue, ...(opts.id ? { workflowId: opts.id } : {}) });
    } catch (error) {
      if (!(error instanceof CallInputError)) throw error;
      out.failure({ type: error.type, message: error.message, field: error.field, started: false });
      return exitCode.badInput;
    }
    out.started(started.workflowId, started.alreadyStarted);
    if (!opts.wait) return exitCode.ok;

    try {
      const result = await waitForCall(started.handle, { onState: out.state });
      out.result(started.workflowId, result);
      return exitCode.ok;
    } catch (error) {
      const failure = callFailureOf(error);
      if (!failure) throw error;
      out.failure({ ...failure, workflowId: started.workflowId, started: true });
      return exitCode.callFailed;
    }
  } finally {
    await connection.close();
  }
}

interface FailureReport {
  type: FailureType;
  message: string;
  /** False when nothing was started (bad input). */
  started: boolean;
  workflowId?: string;
  field?: string;
  details?: unknown[];
}

/** Text for people, phone numbers masked (see ./cli/terminal), or one JSON document for scripts (`--json`). */
function output(json = false) {
  if (json) {
    return {
      started: () => {},
      state: () => {},
      result: (workflowId: string, result: CallResult) => console.log(JSON.stringify({ workflowId, ...result })),
      failure: (failure: FailureReport) =>
        console.log(JSON.stringify({ failure: { ...failure, nextStep: nextStep[failure.type] } })),
    };
  }
  return {
    started: (workflowId: string, existing: boolean) =>
      console.log(
        existing
          ? `Workflow ${messageText(workflowId)} exists already: following it (no new call placed).`
          : `Started workflow ${messageText(workflowId)}`,
      ),
    state: (state: CallState) =>
      console.log(
        `  ${state.phase}${state.lastStatus ? ` · status ${state.lastStatus}` : ''}${state.polls ? ` · ${state.polls} poll(s)` : ''}${state.callId ? ` · ${messageText(state.callId)}` : ''}`,
      ),
    result: (_workflowId: string, result: CallResult) => {
      console.log(`\nCall ${messageText(result.callId)} completed: ${result.outcome}`);
      if (result.durationSeconds !== undefined) console.log(`Duration:  ${result.durationSeconds}s`);
      console.log(`Summary:   ${result.summary ? messageText(result.summary) : '(none yet)'}`);
      if (result.recordingUrl) console.log(`Recording: ${messageText(result.recordingUrl)}`);
      console.log(`Transcript:\n${result.transcript ? indent(messageText(result.transcript)) : '  (none yet)'}`);
    },
    failure: (failure: FailureReport) => {
      console.error(`\n${failure.type}: ${messageText(failure.message)}`);
      console.error(`What to do: ${nextStep[failure.type]}`);
    },
  };
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `  ${line}`)
    .join('\n');
}

/** A workflow id as Temporal accepts it: 1–1000 characters, none of them a control character. */
export function workflowIdOption(value: string): string {
  // eslint-disable-next-line no-control-regex -- a control character in an id prints as something else
  if (!value.trim() || [...value].length > 1000 || /[\u0000-\u001f\u007f-\u009f]/.test(value)) {
    throw new InvalidArgumentError('1–1000 characters, without control characters.');
  }
  return value;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exitCode = exitCode.badInput;
    } else if (error && typeof error === 'object' && 'exitCode' in error && 'code' in error) {
      // commander has printed its own message (missing option, --help).
      process.exitCode = (error as { exitCode: number }).exitCode === 0 ? 0 : exitCode.badInput;
    } else if (isConnectionError(error)) {
      const address = process.env.TEMPORAL_ADDRESS || 'localhost:7233 (the default)';
      console.error(
        `Cannot reach Temporal at ${address}: ${messageText(error.message)}. Check TEMPORAL_ADDRESS (and TEMPORAL_API_KEY, TLS).`,
      );
      process.exitCode = exitCode.badInput;
    } else {
      // Unexpected: the message, not a stack trace; the stack only when asked for.
      console.error(
        messageText(
          process.env.AGENTPHONE_DEBUG
            ? inspect(error)
            : `Error: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
      process.exitCode = 1;
    }
  }
}

if (require.main === module) void main();
