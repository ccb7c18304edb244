import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import type { PlaceCallInput } from '../../src/shared/call-types';
import { root } from './temporal';

/**
 * The package as it was before the key's dial gate: each campaign paced itself (its own pacer and
 * `timing.rateMargin`) and single calls were not paced at all. Override with BENCH_BEFORE_COMMIT.
 */
export const beforeCommit = process.env.BENCH_BEFORE_COMMIT || '1036cbb';

/** What the benchmarks use of the old package: its worker, its HTTP client and its `startCall`. */
export interface BeforePackage {
  commit: string;
  /** Where its `src/` was unpacked (a temporary directory, removed by `remove()`). */
  dir: string;
  /** Its workflows' bundle entry, for `workflowBundle(path)`. */
  workflowsPath: string;
  createCallWorker(options: {
    connection: NativeConnection;
    taskQueue: string;
    agentPhone: unknown;
    searchAttributes?: boolean;
    worker?: Partial<WorkerOptions>;
  }): Promise<Worker>;
  createAgentPhoneClient(options: { apiKey: string; baseUrl: string }): unknown;
  startCall(
    client: Client,
    input: PlaceCallInput,
    options?: { workflowId?: string; taskQueue?: string },
  ): Promise<{ handle: WorkflowHandle }>;
  remove(): void;
}

/**
 * Unpacks `src/` of the old commit with `git archive` (read-only for the repository: no worktree, no checkout) into
 * a temporary directory whose `node_modules` is a link to this one, and loads it through tsx. Its `@temporalio/*`
 * resolve to the same files as ours, so one Temporal runtime serves both packages in one process. With `dir`, loads
 * one unpacked already (a child process of the benchmark), which `remove()` then leaves in place.
 */
export function loadBeforePackage(commit = beforeCommit, dir?: string): BeforePackage {
  const own = dir === undefined;
  const at = dir ?? mkdtempSync(join(tmpdir(), 'agentphone-before-'));
  const remove = () => (own ? rmSync(at, { recursive: true, force: true }) : undefined);
  try {
    if (own) {
      execFileSync('sh', ['-c', 'git -C "$1" archive "$2" src package.json | tar -x -C "$3"', 'sh', root, commit, at]);
      symlinkSync(join(root, 'node_modules'), join(at, 'node_modules'), 'dir');
    }
    // Loaded by path at run time, so that type-checking this repository never reaches into the old sources.
    const requireOld = createRequire(join(at, 'package.json'));
    const load = (path: string): unknown => requireOld(`./src/${path}`);
    const worker = load('worker') as Pick<BeforePackage, 'createCallWorker'>;
    const agentphone = load('agentphone') as Pick<BeforePackage, 'createAgentPhoneClient'>;
    const client = load('client') as Pick<BeforePackage, 'startCall'>;
    return {
      commit,
      dir: at,
      workflowsPath: join(at, 'src', 'workflows', 'index.ts'),
      createCallWorker: worker.createCallWorker,
      createAgentPhoneClient: agentphone.createAgentPhoneClient,
      startCall: client.startCall,
      remove,
    };
  } catch (error) {
    remove();
    throw new Error(
      `the package before the dial gate (commit ${commit}) could not be loaded: ${error instanceof Error ? error.message : error}`,
    );
  }
}
