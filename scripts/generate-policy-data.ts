/**
 * Writes src/policy/timezones.generated.ts and src/policy/area-codes.generated.ts from shared/data.
 *
 *   npx tsx scripts/generate-policy-data.ts [data-dir]
 *
 * Both files are derived from Google's libphonenumber (resources/timezones/map_data.txt and the area-code lines of
 * resources/geocoding/en/1.txt) at commit f7e3e88c92b905c8d6edb81f336dbe25edc05b52, licensed under Apache-2.0; the
 * attribution travels into the generated files' headers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderAreaCodeTable, renderTimezoneTable } from '../src/policy/policy-data';

const repoRoot = path.resolve(__dirname, '..');
const argument = process.argv[2];
const dataDir = argument ? path.resolve(argument) : path.resolve(repoRoot, '../shared/data');

const outputs = [
  { from: 'timezones-by-prefix.txt', to: 'src/policy/timezones.generated.ts', render: renderTimezoneTable },
  { from: 'nanp-area-codes.tsv', to: 'src/policy/area-codes.generated.ts', render: renderAreaCodeTable },
];
for (const { from, to, render } of outputs) {
  const source = path.join(dataDir, from);
  writeFileSync(path.join(repoRoot, to), render(readFileSync(source, 'utf8')));
  console.log(`Wrote ${to} from ${source}.`);
}
