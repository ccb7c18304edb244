/**
 * A DNC list of 1,000,000 numbers imported into the contact store: how long it takes, and how far the process's
 * memory grows (it should not grow with the list: rows stream, 1,000 per INSERT, in one transaction).
 *
 *   npx tsx bench/dnc-import.ts [--rows 1000000] [--database-url postgres://…]
 *
 * Without --database-url (or AGENTPHONE_DATABASE_URL), it measures the embedded store in a temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type DncImportRow, openContactStore } from '../src/contact-store';
import { machineInfo } from './helpers/machine';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rows: { type: 'string', default: '1000000' }, 'database-url': { type: 'string' } },
  });
  const rows = Number(values.rows);
  const databaseUrl = values['database-url'] ?? process.env.AGENTPHONE_DATABASE_URL;
  const dataDir = databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'agentphone-dnc-bench-'));
  const store = await openContactStore(databaseUrl ? { databaseUrl } : { dataDir });
  let peakRss = process.memoryUsage().rss;
  const startRss = peakRss;

  async function* numbers(): AsyncGenerator<DncImportRow> {
    for (let i = 0; i < rows; i++) {
      if (i % 10_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
      // Distinct numbers of 11 digits under +1 (a prefix of its own, so a second run updates rather than adds).
      yield { number: `+1999${String(i).padStart(7, '0')}`, line: i + 1 };
    }
  }

  try {
    const started = performance.now();
    const result = await store.dnc.importRows(numbers(), { by: 'bench', source: 'bench/dnc-import.ts' });
    const seconds = (performance.now() - started) / 1000;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
    console.log(
      JSON.stringify(
        {
          store: store.kind,
          rows,
          ...result,
          seconds: Math.round(seconds * 10) / 10,
          rowsPerSecond: Math.round(rows / seconds),
          rssStartMiB: mib(startRss),
          rssPeakMiB: mib(peakRss),
          machine: machineInfo(),
        },
        null,
        2,
      ),
    );
  } finally {
    await store.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
