// `campaign report`: prints what ../report builds, as text, JSON or a CSV file.
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { exitCode, withClient } from '../connection';
import { countsLine, printDecisions, printRows } from '../print';
import { campaignReport, reportCsv } from '../report';
import { field, jsonText } from '../terminal';

export async function showReport(id: string, opts: { csv?: string; json?: boolean }): Promise<number> {
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
