/**
 * Writes src/guardrails/short-numbers.generated.ts from shared/data/short-numbers-by-territory.tsv.
 *
 *   npx tsx scripts/generate-short-numbers.ts [path-to-tsv]
 *
 * The data is derived from Google's libphonenumber resources/ShortNumberMetadata.xml at commit
 * f7e3e88c92b905c8d6edb81f336dbe25edc05b52, licensed under Apache-2.0; the attribution travels into the generated
 * file's header. libphonenumber-js ships no short-number metadata, which is why this table exists.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderShortNumberTable } from '../src/guardrails/short-number-table';

const repoRoot = path.resolve(__dirname, '..');
const argument = process.argv[2];
const tsvPath = argument
  ? path.resolve(argument)
  : path.resolve(repoRoot, '../shared/data/short-numbers-by-territory.tsv');
const outputPath = path.join(repoRoot, 'src/guardrails/short-numbers.generated.ts');

writeFileSync(outputPath, renderShortNumberTable(readFileSync(tsvPath, 'utf8')));
console.log(`Wrote ${path.relative(repoRoot, outputPath)} from ${tsvPath}.`);
