import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openContactStore } from '../../src/contact-store';

/**
 * Where global-setup.ts keeps this test run's data directories: the template store, and every copy below. One
 * folder, removed when the run ends, so that no copy (about 40 MB each) outlives it.
 */
export const dataRootVariable = 'AGENTPHONE_TEST_DATA_ROOT';

/** Makes the run's folder and its template store: creating an embedded PostgreSQL takes seconds, copying one ms. */
export async function makeDataRoot(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'agentphone-test-data-'));
  const store = await openContactStore({ dataDir: templateOf(root) });
  await store.close();
  return root;
}

/**
 * A fresh data directory for one production worker process (AGENTPHONE_DATA_DIR): its own embedded contact store,
 * as a first start would make it, so that workers of parallel test files never share (and lock) one.
 */
export function freshDataDir(): string {
  const dir = mkdtempSync(join(dataRoot(), 'data-'));
  cpSync(templateOf(dataRoot()), dir, { recursive: true });
  return dir;
}

/** An empty folder of this run's, removed with it: for files a test writes (a policy file, a CSV). */
export function scratchDir(): string {
  return mkdtempSync(join(dataRoot(), 'scratch-'));
}

function dataRoot(): string {
  const root = process.env[dataRootVariable];
  if (!root) throw new Error(`${dataRootVariable} is not set: test/helpers/global-setup.ts makes it.`);
  return root;
}

function templateOf(root: string): string {
  const dir = join(root, 'template');
  mkdirSync(dir, { recursive: true });
  return dir;
}
