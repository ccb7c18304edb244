// `dnc add | remove | check | list | import`: the do-not-call list, through the workers (doNotCallWorkflow), which
// hold the contact store. The operator needs Temporal access only, never the database's credentials.
import { createReadStream } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { parse } from 'csv-parse';
import { doNotCallList } from '../../calls';
import { e164Problem } from '../../contact-store/numbers';
import { dncImportChunkRows, type DncListing } from '../../shared/do-not-call';
import { maskPhoneNumber } from '../../shared/mask';
import { exitCode, run, withClient } from '../connection';
import { field, jsonText, messageText } from '../terminal';

/** Bad lines an import lists before it stops (it counts them all). */
const shownBadLines = 20;
/** Header names of the column that holds the number; without a header, the first column. */
const numberColumns = ['to_phone_number', 'phone_number', 'number', 'phone', 'e164'];

function e164(value: string): string {
  const problem = e164Problem(value);
  if (problem) throw new InvalidArgumentError(`the number ${problem}: give it in E.164 form, e.g. +14155550123.`);
  return value;
}

export function addDoNotCallCommands(program: Command): void {
  const dnc = program
    .command('dnc')
    .description('The do-not-call list: a listed number is never dialed, by any campaign or call.');

  dnc
    .command('add')
    .description('Put a number on the list (or update who, why and where from).')
    .argument('<number>', 'E.164 number, e.g. +14155550123', e164)
    .requiredOption('--by <name>', 'who asks (recorded)')
    .option('--reason <text>', 'why, e.g. "asked not to be called" (recorded)')
    .option('--source <text>', 'where the request came from (default: cli)')
    .option('--json', 'print JSON')
    .action(
      run((number: string, opts: { by: string; reason?: string; source?: string; json?: boolean }) =>
        withClient(async (client, taskQueue) => {
          const { entry } = await doNotCallList(
            client,
            {
              op: 'add',
              number,
              by: opts.by,
              source: opts.source ?? 'cli',
              ...(opts.reason ? { reason: opts.reason } : {}),
            },
            { taskQueue },
          );
          console.log(opts.json ? jsonText(entry) : `Listed ${describe(entry)}: it is never called.`);
          return exitCode.ok;
        }),
      ),
    );

  dnc
    .command('remove')
    .description('Take a number off the list: it may be called again.')
    .argument('<number>', 'E.164 number', e164)
    .requiredOption('--by <name>', 'who removes it (recorded)')
    .action(
      run((number: string, opts: { by: string }) =>
        withClient(async (client, taskQueue) => {
          const { removed } = await doNotCallList(client, { op: 'remove', number, by: opts.by }, { taskQueue });
          console.log(
            removed
              ? `Removed ${maskPhoneNumber(number)} from the list.`
              : `${maskPhoneNumber(number)} was not on the list.`,
          );
          return exitCode.ok;
        }),
      ),
    );

  dnc
    .command('check')
    .description('Say whether a number is on the list (exit 0 listed, 1 not listed).')
    .argument('<number>', 'E.164 number', e164)
    .option('--json', 'print JSON')
    .action(
      run((number: string, opts: { json?: boolean }) =>
        withClient(async (client, taskQueue) => {
          const answer = await doNotCallList(client, { op: 'check', number }, { taskQueue });
          if (opts.json) console.log(jsonText(answer));
          else
            console.log(
              answer.entry ? `Listed: ${describe(answer.entry)}.` : `${maskPhoneNumber(number)} is not on the list.`,
            );
          return answer.listed ? exitCode.ok : exitCode.failed;
        }),
      ),
    );

  dnc
    .command('list')
    .description('Print the list, in number order (numbers in full: the list is the operator’s).')
    .option('--offset <n>', 'skip this many', (v) => Number.parseInt(v, 10), 0)
    .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 100)
    .option('--json', 'print JSON')
    .action(
      run((opts: { offset: number; limit: number; json?: boolean }) =>
        withClient(async (client, taskQueue) => {
          const page = await doNotCallList(
            client,
            { op: 'list', offset: opts.offset, limit: opts.limit },
            { taskQueue },
          );
          if (opts.json) console.log(jsonText(page));
          else {
            for (const e of page.entries) console.log(`${e.number}  ${describe(e, false)}`);
            console.log(`${page.entries.length} shown of ${page.total} listed.`);
          }
          return exitCode.ok;
        }),
      ),
    );

  dnc
    .command('import')
    .description(
      `Add every number of a CSV file (a registry extract, a CRM export), ${dncImportChunkRows} rows at a time. ` +
        'Every line is checked first: one bad line and nothing is sent.',
    )
    .argument('<file>', `CSV with a column ${numberColumns.join(' | ')} (or the numbers in its first column)`)
    .requiredOption('--by <name>', 'who imports (recorded)')
    .option('--source <text>', 'where the list came from (default: the file name)')
    .option('--reason <text>', 'why (recorded on every number)')
    .action(
      run((file: string, opts: { by: string; source?: string; reason?: string }) =>
        withClient(async (client, taskQueue) => {
          const bad: string[] = [];
          let badCount = 0;
          let total = 0;
          for await (const row of numbersOf(file)) {
            total++;
            const problem = e164Problem(row.number);
            if (!problem) continue;
            if (++badCount <= shownBadLines) bad.push(`line ${row.line}: ${problem}`);
          }
          if (badCount > 0) {
            console.error(
              `${field(file)}: ${badCount} of ${total} lines are not E.164 numbers; nothing was imported.\n` +
                bad.map((b) => `  ${messageText(b)}`).join('\n') +
                (badCount > shownBadLines ? `\n  … and ${badCount - shownBadLines} more` : ''),
            );
            return exitCode.badInput;
          }
          const meta = { by: opts.by, source: opts.source ?? file, ...(opts.reason ? { reason: opts.reason } : {}) };
          let added = 0;
          let updated = 0;
          let sent = 0;
          let chunk: { number: string; line: number }[] = [];
          const send = async () => {
            const result = await doNotCallList(client, { op: 'import', rows: chunk, ...meta }, { taskQueue });
            added += result.added;
            updated += result.updated;
            sent += chunk.length;
            chunk = [];
            if (process.stderr.isTTY) process.stderr.write(`\rimported ${sent} of ${total}`);
          };
          for await (const row of numbersOf(file)) {
            chunk.push(row);
            if (chunk.length >= dncImportChunkRows) await send();
          }
          if (chunk.length > 0) await send();
          if (process.stderr.isTTY) process.stderr.write('\n');
          console.log(`Imported ${total} lines of ${field(file)}: ${added} added, ${updated} already listed.`);
          return exitCode.ok;
        }),
      ),
    );
}

/** The numbers of a CSV file with their line numbers, read as a stream (memory stays bounded). */
async function* numbersOf(file: string): AsyncGenerator<{ number: string; line: number }> {
  const parser = createReadStream(file).pipe(
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, trim: true, info: true }),
  );
  let column: number | undefined;
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    if (column === undefined) {
      const header = record.map((cell) => cell.toLowerCase());
      const named = header.findIndex((cell) => numberColumns.includes(cell));
      column = named >= 0 ? named : 0;
      // A first line that names its columns is a header, not a number.
      if (named >= 0 || !/^\+?\d/.test(record[0] ?? '')) continue;
    }
    yield { number: record[column] ?? '', line: info.lines };
  }
}

function describe(entry: DncListing, withNumber = true): string {
  return [
    withNumber ? maskPhoneNumber(entry.number) : undefined,
    `by ${entry.by}`,
    entry.at,
    entry.reason ? `“${entry.reason}”` : undefined,
    entry.source ? `(${entry.source})` : undefined,
  ]
    .filter(Boolean)
    .map((part) => messageText(String(part)))
    .join(' ');
}
