import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { dataConverterFor } from '../src/encryption/codec';
import { keyFileEnvVar, loadKeyRing } from '../src/encryption/keys';
import { workflowBundle } from './helpers/temporal';

// Recorded from real runs (RECORD_HISTORIES=1 npm test). A change to the workflow code that would break a running
// workflow fails here with a determinism error: version the change with patched() instead.
const dir = join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
// Every history replays with the codec of the test key kept here: encrypted ones are decrypted, plain ones (written
// before encryption) pass through it untouched, as on a worker that turned encryption on. The SDK loads the
// failure converter with Node's own require: the compiled one (npm run build).
const dataConverter = {
  ...dataConverterFor(loadKeyRing({ [keyFileEnvVar]: join(dir, 'encryption-test-key.txt') })),
  failureConverterPath: join(__dirname, '..', 'lib', 'encryption', 'failure-converter.js'),
};

describe('recorded histories', () => {
  it('are present, plain and encrypted', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
    expect(files.filter((f) => f.includes('encrypted')).length).toBeGreaterThanOrEqual(1);
  });

  it.each(files)('%s replays deterministically with the current workflow code', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    const idFile = join(dir, file.replace(/\.json$/, '.id'));
    const workflowId = existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : file.replace(/\.json$/, '');
    await expect(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter }, history, workflowId),
    ).resolves.toBeUndefined();
  });
});
