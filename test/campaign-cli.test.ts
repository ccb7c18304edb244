import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { magicNumbers, type Simulator, startSimulator } from '../src/simulator';
import type { CampaignHandle } from './helpers/campaign';
import { waitForProgress } from './helpers/campaign';
import { createDevServerEnv, uniqueId, uniqueTaskQueue } from './helpers/temporal';
import { freshDataDir } from './helpers/data-dir';
import { anyHourPolicy } from './helpers/policy';

const execFileAsync = promisify(execFile);
const root = join(__dirname, '..');
const workerJs = join(root, 'lib', 'worker.js');
const starterJs = join(__dirname, '..', 'lib', 'starter.js');
const apiKey = 'sk_campaign_cli_SECRET_93be';
const dir = mkdtempSync(join(tmpdir(), 'campaign-cli-'));

let env: TestWorkflowEnvironment;
let sim: Simulator;
let worker: ChildProcess | undefined;
let workerLog = '';
const taskQueue = uniqueTaskQueue('campaign-cli');

function processEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: env.address,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    ...extra,
  };
}

/** Runs `starter campaign …` as its own process, as a person would. */
async function campaign(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [starterJs, 'campaign', ...args], {
      cwd: root,
      env: processEnv(),
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let files = 0;
function csvFile(content: string | Buffer): string {
  const path = join(dir, `targets-${++files}.csv`);
  writeFileSync(path, content);
  return path;
}

const handle = (id: string): CampaignHandle => env.client.workflow.getHandle(id);
const startedId = (stdout: string) => /Started campaign (\S+)/.exec(stdout)?.[1] ?? '';
const creates = () => sim.stats().creates;

beforeAll(async () => {
  if (!existsSync(workerJs) || !existsSync(join(root, 'lib', 'workflow-bundle.js'))) {
    throw new Error('lib/ is missing: run `npm run build` first (npm test does).');
  }
  [env, sim] = await Promise.all([
    createDevServerEnv(),
    startSimulator({
      apiKey,
      progress: 'polls',
      credits: Number.POSITIVE_INFINITY,
      rateLimit: { limit: 1000, windowMs: 60_000 },
    }),
  ]);
  worker = spawn(process.execPath, [workerJs], {
    env: processEnv({
      AGENTPHONE_API_KEY: apiKey,
      AGENTPHONE_BASE_URL: sim.baseUrl,
      AGENTPHONE_DATA_DIR: freshDataDir(),
      // The tests run at any hour: the campaigns keep to their own windows, not their recipients' hours.
      AGENTPHONE_CONTACT_POLICY: anyHourPolicy,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout?.on('data', (d) => (workerLog += d));
  worker.stderr?.on('data', (d) => (workerLog += d));
  await waitFor(
    () => workerLog.includes('agentphone worker'),
    30_000,
    () => workerLog,
  );
});

afterAll(async () => {
  worker?.kill('SIGKILL');
  await sim?.close();
  await env?.teardown();
  rmSync(dir, { recursive: true, force: true });
});

describe('campaign commands against a real dev server and worker', () => {
  it(
    'takes a CSV file through start, preview, approval and watch to a report with every call',
    { timeout: 240_000 },
    async () => {
      const file = csvFile(
        [
          'phone,objective,business_name,id',
          `${magicNumbers.achieved},Book a table for two,"Bistro ""Chez Nous"", Paris",`,
          `${magicNumbers.partial},Ask about opening hours,Acme Outdoor,crm-42`,
          '911,Report nothing,Nobody,',
          '+14155550200,Ask about the return policy,,',
          `${magicNumbers.achieved},Book again,Bistro twice,`,
          `${magicNumbers.failed},Confirm the delivery date,Failing Ltd,`,
        ].join('\n'),
      );
      const before = creates();

      const started = await campaign('start', '--file', file, '--name', 'Spring outreach', '--poll-interval', '200ms');
      expect(started.code, started.stderr).toBe(0);
      expect(started.stdout).toMatch(/line 4: ForbiddenNumber: toPhoneNumber "911" is an emergency number/);
      expect(started.stdout).toMatch(/line 6: Duplicate: same number as line 2: called once only\./);
      expect(started.stdout).toMatch(/credits needed {2}4/);
      expect(started.stdout).toMatch(/campaign approve campaign-spring-outreach-\S+ --by <your name>/);
      const id = startedId(started.stdout);
      expect(id).toMatch(/^campaign-spring-outreach-[0-9a-f]{8}$/);
      expect((await handle(id).describe()).memo).toEqual({ campaign: 'Spring outreach' });

      const preview = await campaign('preview', id, '--json');
      expect(preview.code, preview.stderr).toBe(0);
      const shown = JSON.parse(preview.stdout);
      expect(shown).toMatchObject({
        state: 'awaiting_approval',
        gate: 'launch',
        creditsNeeded: 4,
        validation: { rows: 6, valid: 4, refused: 2, refusedByReason: { ForbiddenNumber: 1, Duplicate: 1 } },
        refusalsComplete: true,
      });
      expect(Date.parse(shown.approvalDeadline)).toBeGreaterThan(Date.now() + 23 * 3600_000);
      expect(shown.refusals.map((r: { line: number }) => r.line)).toEqual([4, 6]);
      const previewText = await campaign('preview', id);
      expect(previewText.stdout).toMatch(/awaiting approval/);
      expect(previewText.stdout).toMatch(/line 4: ForbiddenNumber/);
      expect(creates()).toBe(before);

      const approved = await campaign('approve', id, '--by', 'ops-lead', '--comment', 'looks fine');
      expect(approved.code, approved.stderr).toBe(0);
      expect(approved.stdout).toContain(`Approved by ops-lead: campaign ${id} is running.`);

      const watched = await campaign('status', id, '--watch');
      expect(watched.code, watched.stderr).toBe(0);
      expect(watched.stdout).not.toContain('\r');
      expect(watched.stdout).toMatch(/^completed 4\/4 concluded · achieved 2 · partial 1 · failed 1$/m);
      expect(watched.stdout).toMatch(/approve +ops-lead: looks fine/);
      expect(creates() - before).toBe(4);

      const reportFile = join(dir, 'report.csv');
      const report = await campaign('report', id, '--csv', reportFile);
      expect(report.code, report.stderr).toBe(0);
      expect(report.stdout).toContain(`Wrote 4 rows to ${reportFile}`);
      expect(report.stdout).toMatch(/approve +ops-lead: looks fine/);
      const rows: Record<string, string>[] = parse(readFileSync(reportFile), { columns: true });
      expect(rows.map((r) => [r.line, r.key, r.state, r.outcome, r.failure])).toEqual([
        ['2', 'line-2', 'achieved', 'achieved', ''],
        ['3', 't-crm-42', 'partial', 'partial', ''],
        ['5', 'line-5', 'achieved', 'achieved', ''],
        ['7', 'line-7', 'failed', '', 'CallFailed'],
      ]);
      expect(rows[0]).toMatchObject({
        business_name: 'Bistro "Chez Nous", Paris',
        // Escaped like every cell that starts with + (OWASP): a spreadsheet keeps the plus as text.
        to_phone_number: `'${magicNumbers.achieved}`,
      });
      expect(rows[1]?.id).toBe('crm-42');
      for (const row of rows) {
        expect(row.call_id).toMatch(/^cl_/);
        expect(row.child_workflow_id).toBe(`${id}/${row.key}`);
      }
      expect(rows.filter((r) => r.outcome).every((r) => r.summary)).toBe(true);
      expect(new Set(rows.map((r) => r.call_id)).size).toBe(4);

      const json = await campaign('report', id, '--json');
      expect(json.code, json.stderr).toBe(0);
      const full = JSON.parse(json.stdout);
      expect(full).toMatchObject({
        campaignId: id,
        name: 'Spring outreach',
        state: 'completed',
        closed: true,
        source: file,
      });
      expect(full.decisions).toEqual([
        expect.objectContaining({ action: 'approve', by: 'ops-lead', comment: 'looks fine' }),
      ]);
      expect(full.targets.map((t: { callId: string }) => t.callId)).toEqual(rows.map((r) => r.call_id));
      const child = await env.client.workflow.getHandle(full.targets[0].childWorkflowId).result();
      expect(child.callId).toBe(rows[0]?.call_id);
    },
  );

  it(
    'refuses a decision the campaign refuses with exit code 2 and its reason, recording nothing',
    { timeout: 180_000 },
    async () => {
      const file = csvFile(`to_phone_number,objective\n+14155550210,Ask\n+14155550211,Ask\n`);
      const started = await campaign(
        'start',
        '--file',
        file,
        '--approvers',
        'alice,bob',
        ...['--retry', 'not_achieved,timed_out', '--retry-delays', '4h,1d', '--max-attempts', '3'],
        '--json',
      );
      expect(started.code, started.stderr).toBe(0);
      const { workflowId: id, valid, creditsNeeded, input } = JSON.parse(started.stdout);
      expect(input.retry).toEqual({ on: ['not_achieved', 'timed_out'], delays: ['4h', '1d'], maxAttempts: 3 });
      expect(id).toMatch(/^campaign-targets-\d+-[0-9a-f]{8}$/);
      expect({ valid, creditsNeeded }).toEqual({ valid: 2, creditsNeeded: 2 });
      await waitForProgress(handle(id), (p) => p.state === 'awaiting_approval');

      const stranger = await campaign('approve', id, '--by', 'mallory');
      expect(stranger.code).toBe(2);
      expect(stranger.stderr).toContain('Refused: mallory is not an approver of this campaign (alice, bob).');
      const early = await campaign('pause', id, '--by', 'alice');
      expect(early.code).toBe(2);
      expect(early.stderr).toContain('cannot pause a campaign that is awaiting_approval');
      const noReason = await campaign('reject', id, '--by', 'alice');
      expect(noReason.code).toBe(2);
      expect(noReason.stderr).toMatch(/required option '--reason <text>' not specified/);

      const rejected = await campaign('reject', id, '--by', 'bob', '--reason', 'wrong list');
      expect(rejected.code, rejected.stderr).toBe(0);
      expect(rejected.stdout).toContain(`Rejected by bob: campaign ${id} is rejected.`);
      const late = await campaign('approve', id, '--by', 'alice');
      expect(late.code).toBe(2);
      expect(late.stderr).toMatch(/Refused: cannot approve/);

      const status = await campaign('status', id, '--json');
      expect(JSON.parse(status.stdout)).toMatchObject({
        state: 'rejected',
        counts: { skipped: 2 },
        decisions: [{ action: 'reject', by: 'bob', comment: 'wrong list' }],
      });
      expect(sim.requests().filter((r) => r.toPhoneNumber?.startsWith('+1415555021'))).toHaveLength(0);
    },
  );

  it(
    'pauses, resumes and cancels a running campaign; calls in flight finish and are reported',
    { timeout: 180_000 },
    async () => {
      const file = csvFile(
        `to_phone_number,objective\n${magicNumbers.neverEnds},Hold the line\n+14155550220,Ask\n+14155550221,Ask\n+14155550222,Ask\n`,
      );
      const before = creates();
      // The first call never ends: it holds the only slot until its timeout, which outlasts the three decisions.
      const started = await campaign(
        'start',
        '--file',
        file,
        '--name',
        'Pause me',
        '--max-concurrent',
        '1',
        '--poll-interval',
        '200ms',
        '--call-timeout',
        '30s',
      );
      expect(started.code, started.stderr).toBe(0);
      const id = startedId(started.stdout);
      await waitForProgress(handle(id), (p) => p.state === 'awaiting_approval');
      expect((await campaign('approve', id, '--by', 'ops')).code).toBe(0);
      await waitForProgress(handle(id), (p) => p.counts.in_flight === 1);

      const paused = await campaign('pause', id, '--by', 'ops', '--reason', 'lunch');
      expect(paused.code, paused.stderr).toBe(0);
      expect(paused.stdout).toContain(`Paused by ops: campaign ${id} is paused (operator).`);
      const resumed = await campaign('resume', id, '--by', 'ops');
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toContain('is running.');
      const canceled = await campaign('cancel', id, '--by', 'ops', '--reason', 'wrong script');
      expect(canceled.code, canceled.stderr).toBe(0);
      expect(canceled.stdout).toContain('is canceled.');

      const watched = await campaign('status', id, '--watch', '--json');
      expect(watched.code, watched.stderr).toBe(0);
      const last = JSON.parse(watched.stdout.trim().split('\n').at(-1)!);
      expect(last).toMatchObject({
        state: 'canceled',
        counts: { timed_out: 1, skipped: 3 },
        skippedByReason: { canceled: 3 },
      });
      expect(last.decisions.map((d: { action: string; by: string }) => `${d.action}:${d.by}`)).toEqual([
        'approve:ops',
        'pause:ops',
        'resume:ops',
        'cancel:ops',
      ]);
      expect(creates() - before).toBe(1);

      const report = JSON.parse((await campaign('report', id, '--json')).stdout);
      expect(
        report.targets.map((t: { state: string; failure?: string; childWorkflowId?: string }) => [
          t.state,
          t.failure,
          t.childWorkflowId,
        ]),
      ).toEqual([
        ['timed_out', 'CallTimedOut', `${id}/line-2`],
        ['skipped', undefined, undefined],
        ['skipped', undefined, undefined],
        ['skipped', undefined, undefined],
      ]);
      expect(report.targets[0].callId).toMatch(/^cl_/);
    },
  );

  it('lists the first 100 refusals from the campaign, and every one with --all', { timeout: 120_000 }, async () => {
    const bad = Array.from({ length: 150 }, (_, i) => `+1415555${String(300 + i).padStart(4, '0')},`);
    const file = csvFile(['to_phone_number,objective', '+14155550299,Ask', ...bad].join('\n'));
    const started = await campaign('start', '--file', file);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout.match(/^ {2}line \d+: InvalidInput: objective is empty/gm)).toHaveLength(150);
    const id = startedId(started.stdout);

    const kept = await campaign('preview', id);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout.match(/^ {2}line \d+: InvalidInput/gm)).toHaveLength(100);
    expect(kept.stdout).toContain(`… 50 more: npm run starter -- campaign preview ${id} --all`);
    const all = JSON.parse((await campaign('preview', id, '--all', '--json')).stdout);
    expect(all.refusals).toHaveLength(150);
    expect(all.refusals.at(-1)).toMatchObject({ line: 152, reason: 'InvalidInput' });
    expect(all.refusalsComplete).toBe(true);
    expect((await campaign('cancel', id, '--by', 'test')).code).toBe(0);
  });
});

describe('campaign start with a file it cannot use', () => {
  async function expectNothingStarted(id: string): Promise<void> {
    await expect(handle(id).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  }

  it('exits 2 naming the line of the first byte that is not UTF-8, and starts nothing', async () => {
    const file = csvFile(
      Buffer.concat([
        Buffer.from('to_phone_number,objective,business_name\n+14155550230,Ask,Acme\n+14155550231,Ask,Caf'),
        Buffer.from([0xe9, 0x0a]),
      ]),
    );
    const id = uniqueId('campaign-latin1');
    const result = await campaign('start', '--file', file, '--id', id);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}: line 3: the file is not UTF-8 text. Save it as UTF-8 CSV.`);
    expect(result.stderr).toContain('Nothing was started.');
    await expectNothingStarted(id);
  });

  it('exits 2 at line 1 when a column is missing, in text and JSON, and starts nothing', async () => {
    const file = csvFile('phone,business_name\n+14155550240,Acme\n');
    const id = uniqueId('campaign-columns');
    const text = await campaign('start', '--file', file, '--id', id);
    expect(text.code).toBe(2);
    expect(text.stderr).toContain('line 1: the header lacks the column(s) objective.');
    const json = await campaign('start', '--file', file, '--id', id, '--json');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toEqual({
      failure: {
        type: 'InvalidInput',
        message: `${file}: line 1: the header lacks the column(s) objective.`,
        line: 1,
        started: false,
      },
    });
    await expectNothingStarted(id);
  });

  it('exits 2 when no row can be called, listing every refusal, and starts nothing', async () => {
    const file = csvFile('to_phone_number,objective\n911,Ask\n112,Ask\n');
    const id = uniqueId('campaign-empty');
    const result = await campaign('start', '--file', file, '--id', id);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/line 2: ForbiddenNumber[\s\S]*line 3: ForbiddenNumber/);
    expect(result.stderr).toContain('no row can be called (2 rows, 2 refused)');
    await expectNothingStarted(id);
  });

  it('exits 2 on a bad option or a missing file, and on an unknown campaign id', async () => {
    const file = csvFile('to_phone_number,objective\n+14155550250,Ask\n');
    const window = await campaign('start', '--file', file, '--window', '25:00-21:00');
    expect(window.code).toBe(2);
    expect(window.stderr).toMatch(/--window.*08:00-21:00/);
    const zoneAlone = await campaign('start', '--file', file, '--default-timezone', 'Europe/Paris');
    expect(zoneAlone.code).toBe(2);
    expect(zoneAlone.stderr).toContain('--default-timezone applies to --window');
    const halfLadder = await campaign('start', '--file', file, '--retry', 'not_achieved');
    expect(halfLadder.code).toBe(2);
    expect(halfLadder.stderr).toContain('needs --retry, --retry-delays and --max-attempts together');
    const outcome = await campaign(
      'start',
      '--file',
      file,
      '--retry',
      'achieved',
      '--retry-delays',
      '4h',
      '--max-attempts',
      '3',
    );
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/--retry.*not_achieved, failed, timed_out/);
    const delay = await campaign(
      'start',
      '--file',
      file,
      '--retry',
      'failed',
      '--retry-delays',
      '4h,90d',
      '--max-attempts',
      '3',
    );
    expect(delay.code).toBe(2);
    expect(delay.stderr).toMatch(/--retry-delays.*1s to 30d/);
    const missing = await campaign('start', '--file', join(dir, 'nope.csv'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ENOENT');
    const unknown = await campaign('status', 'campaign-that-never-was');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('No campaign campaign-that-never-was');
  });
});

async function waitFor(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting; output so far:\n${describe()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
