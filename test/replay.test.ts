import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from './helpers/temporal';

// Recorded from real runs (RECORD_HISTORIES=1 npm test). A change to the workflow code that would break a running
// workflow fails here with a determinism error: version the change with patched() instead.
const dir = join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('recorded histories', () => {
  it('are present', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });

  it.each(files)('%s replays deterministically with the current workflow code', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(dir, file), 'utf8')));
    const idFile = join(dir, file.replace(/\.json$/, '.id'));
    const workflowId = existsSync(idFile) ? readFileSync(idFile, 'utf8').trim() : file.replace(/\.json$/, '');
    await expect(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId),
    ).resolves.toBeUndefined();
  });
});
