import { events, fetchAllRuns, runsContaining } from './audit';
import { type Figures, printFigures, writeFigures } from './figures';
import { countFiles, filesContaining, logsContaining } from './secrets';
import type { Stack } from './stack';

/**
 * The last step of every file: looks for the API key in every history of the namespace, every failure message,
 * every process's output and every file the file wrote (the figures included), then writes and prints the figures.
 */
export async function finishSuite(stack: Stack, figures: () => Figures, files: string[] = []): Promise<Figures> {
  const runs = await fetchAllRuns(stack.client);
  const failureMessages = runs
    .flatMap((run) =>
      events(run).flatMap((e) => [
        e.workflowExecutionFailedEventAttributes?.failure?.message,
        e.activityTaskFailedEventAttributes?.failure?.message,
        e.childWorkflowExecutionFailedEventAttributes?.failure?.message,
        e.workflowTaskFailedEventAttributes?.failure?.message,
      ]),
    )
    .filter((m): m is string => typeof m === 'string');
  const figuresPath = writeFigures(figures());
  const scanned = [stack.dir, figuresPath, ...files];
  const secret = stack.apiKey;
  const found = [
    ...runsContaining(runs, secret).map((r) => `history ${r}`),
    ...failureMessages.filter((m) => m.includes(secret)).map((m) => `failure message "${m.slice(0, 60)}…"`),
    ...logsContaining(stack.logs, secret),
    ...filesContaining(scanned, secret),
  ];
  const base = figures();
  const final: Figures = {
    ...base,
    details: {
      ...base.details,
      secretScan: {
        histories: runs.length,
        failureMessages: failureMessages.length,
        logs: stack.logs.sources().size,
        files: countFiles(scanned),
      },
    },
    secretFoundIn: found,
  };
  writeFigures(final);
  printFigures(final);
  return final;
}
