// The CLI's connection to Temporal, and how a command's errors become a message and an exit code.
import { Client, Connection } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { ConfigError, loadClientConfig } from '../config';
import { dataConverterFor } from '../encryption/codec';
import { TargetsFileError } from '../domain/targets';
import { CampaignFailedError } from './progress';
import { TargetsMismatchError, TargetsUnlistedError } from './report';
import { cli, field, messageText } from './terminal';

/** Exit codes: 0 ok, 1 a failure at the server (or of the campaign), 2 bad input or a refused decision. */
export const exitCode = { ok: 0, failed: 1, badInput: 2 } as const;

/** Temporal could not be reached: the address or the credentials are wrong, or the server is down. */
export function isConnectionError(error: unknown): error is Error {
  const text =
    error instanceof Error ? `${error.message} ${String((error.cause as Error | undefined)?.message ?? '')}` : '';
  return /Failed to connect before the deadline|UNAVAILABLE|ECONNREFUSED|ENOTFOUND|Name resolution failed|connection refused/i.test(
    text,
  );
}

/** Runs `fn` with a client of the configured namespace (TEMPORAL_* variables), closing the connection after. */
export async function withClient(fn: (client: Client, taskQueue: string) => Promise<number>): Promise<number> {
  const { taskQueue, encryption } = loadClientConfig();
  const { connectionOptions, namespace } = loadClientConnectConfig();
  const connection = await Connection.connect(connectionOptions);
  try {
    return await fn(new Client({ connection, namespace, dataConverter: dataConverterFor(encryption) }), taskQueue);
  } finally {
    await connection.close();
  }
}

/** Runs a command, turning the errors a user can act on into a message and an exit code. */
export function run<A extends unknown[]>(command: (...args: A) => Promise<number>) {
  return async (...args: A): Promise<void> => {
    try {
      process.exitCode = await command(...args);
    } catch (error) {
      // The starter's main prints these, exit 2: bad configuration, or a Temporal it cannot reach.
      if (error instanceof ConfigError || isConnectionError(error)) throw error;
      process.exitCode = explain(error);
    }
  };
}

/** Prints what went wrong and what to do next; returns the exit code. */
function explain(error: unknown): number {
  if (error instanceof WorkflowNotFoundError) {
    console.error(
      `No campaign ${field(error.workflowId || '')} in this namespace: check the id (and TEMPORAL_NAMESPACE).`,
    );
    return exitCode.badInput;
  }
  if (error instanceof TargetsFileError || error instanceof TargetsMismatchError) {
    console.error(
      `${messageText(error.message)}\nRun this where the campaign's CSV file is at the path it was started with.`,
    );
    return exitCode.badInput;
  }
  if (error instanceof TargetsUnlistedError) {
    const id = field(error.workflowId);
    console.error(
      `${messageText(error.message)}\nStill available: ${cli} status ${id} (its counts and decisions) and ` +
        `${cli} preview ${id} (the refusals it kept).`,
    );
    return exitCode.badInput;
  }
  if (error instanceof CampaignFailedError) {
    console.error(
      `Campaign ${field(error.workflowId)} ${field(error.status.toLowerCase())}: ${messageText(error.message)}`,
    );
    if (/^The targets cannot be used/.test(error.message)) {
      console.error(
        'The workers read the CSV file at the absolute path given to `campaign start`: they must see it there.',
      );
    }
    return exitCode.failed;
  }
  console.error(`Failed: ${messageText(error instanceof Error ? error.message : String(error))}`);
  return exitCode.failed;
}
