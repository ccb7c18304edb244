import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openContactStore } from '../../src/contact-store';

/** Where global-setup.ts leaves an embedded contact store, migrated and closed, for each worker process to copy. */
export const templateVariable = 'AGENTPHONE_TEST_STORE_TEMPLATE';

/** Makes the template once per test run: creating an embedded PostgreSQL takes seconds, copying one milliseconds. */
export async function makeDataDirTemplate(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-store-template-'));
  const store = await openContactStore({ dataDir: dir });
  await store.close();
  return dir;
}

/**
 * A fresh data directory for one production worker process (AGENTPHONE_DATA_DIR): its own embedded contact store,
 * as a first start would make it, so that workers of parallel test files never share (and lock) one.
 */
export function freshDataDir(): string {
  const template = process.env[templateVariable];
  if (!template) throw new Error(`${templateVariable} is not set: test/helpers/global-setup.ts makes it.`);
  const dir = mkdtempSync(join(tmpdir(), 'agentphone-data-'));
  cpSync(template, dir, { recursive: true });
  return dir;
}
