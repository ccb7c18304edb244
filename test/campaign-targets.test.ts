import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { windowStatus } from '../src/shared/calling-window';
import { inlineRows, parseTargetsCsv, readTargetsCsv, TargetsFileError, validateTargets } from '../src/domain/targets';
import { magicNumbers } from '../src/simulator';

const dir = mkdtempSync(join(tmpdir(), 'campaign-targets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let files = 0;
function file(content: string | Uint8Array): string {
  const path = join(dir, `targets-${++files}.csv`);
  writeFileSync(path, content);
  return path;
}

const csv = (text: string) => validateTargets(parseTargetsCsv(Buffer.from(text)));

/** The TargetsFileError that `fn` throws. */
function fileError(fn: () => unknown): TargetsFileError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TargetsFileError);
    return error as TargetsFileError;
  }
  throw new Error('expected a TargetsFileError');
}

async function fileErrorOf(promise: Promise<unknown>): Promise<TargetsFileError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TargetsFileError);
  return error as TargetsFileError;
}

describe('the targets CSV format', () => {
  it('reads the canonical columns, one target a row, keyed by its line', () => {
    const { valid, refusals, rows } = csv(
      'to_phone_number,objective,business_name,website,timezone\n' +
        '+14155550200,Ask about opening hours,Acme Outdoor,https://acme.example,America/Los_Angeles\n' +
        `${magicNumbers.partial},Book a table,,,\n`,
    );
    expect(rows).toBe(2);
    expect(refusals).toEqual([]);
    expect(valid).toEqual([
      {
        index: 0,
        key: 'line-2',
        line: 2,
        target: {
          toPhoneNumber: '+14155550200',
          objective: 'Ask about opening hours',
          businessName: 'Acme Outdoor',
          website: 'https://acme.example',
          timezone: 'America/Los_Angeles',
        },
      },
      { index: 1, key: 'line-3', line: 3, target: { toPhoneNumber: magicNumbers.partial, objective: 'Book a table' } },
    ]);
  });

  it('accepts the header aliases phone and phone_number, in any case, with spaces around names', () => {
    for (const header of ['phone,objective', 'Phone_Number,Objective', ' PHONE , objective ']) {
      const { valid } = csv(`${header}\n+14155550200,Ask\n`);
      expect(valid.map((v) => v.target.toPhoneNumber)).toEqual(['+14155550200']);
    }
  });

  it('reads a file that starts with a UTF-8 byte order mark (as Excel saves it)', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const path = file(
      Buffer.concat([bom, Buffer.from('to_phone_number,objective,business_name\r\n+14155550200,Ask,Café Zoë\r\n')]),
    );
    const { valid, refusals } = await readTargetsCsv(path);
    expect(refusals).toEqual([]);
    expect(valid[0]).toMatchObject({ line: 2, target: { toPhoneNumber: '+14155550200', businessName: 'Café Zoë' } });
  });

  it('refuses a file that is not UTF-8, naming the line of the first bad byte', async () => {
    // "Café" saved as Latin-1 on line 3: 0xE9 alone is not UTF-8.
    const latin1 = Buffer.concat([
      Buffer.from('to_phone_number,objective,business_name\n+14155550200,Ask,Acme\n+14155550201,Ask,Caf'),
      Buffer.from([0xe9]),
      Buffer.from('\n+14155550202,Ask,Bar\n'),
    ]);
    const error = await fileErrorOf(readTargetsCsv(file(latin1)));
    expect(error.line).toBe(3);
    expect(error.message).toMatch(/^line 3: the file is not UTF-8 text\. Save it as UTF-8 CSV\./);
  });

  it('refuses a header without to_phone_number or objective, at line 1', () => {
    const missingObjective = fileError(() => parseTargetsCsv(Buffer.from('phone,business_name\n+14155550200,Acme\n')));
    expect(missingObjective.line).toBe(1);
    expect(missingObjective.message).toBe('line 1: the header lacks the column(s) objective.');
    const missingBoth = fileError(() => parseTargetsCsv(Buffer.from('')));
    expect(missingBoth.message).toBe('line 1: the header lacks the column(s) to_phone_number, objective.');
  });

  it('refuses a row with more fields than the header, or an unclosed quote, naming the line', () => {
    const extra = fileError(() =>
      parseTargetsCsv(Buffer.from('to_phone_number,objective\n+14155550200,Ask\n+14155550201,Ask,extra\n')),
    );
    expect(extra.line).toBe(3);
    expect(extra.message).toBe('line 3: not valid CSV: 3 fields, but the header has 2 columns.');
    const unclosed = fileError(() => parseTargetsCsv(Buffer.from('to_phone_number,objective\n+14155550200,"Ask\n')));
    expect(unclosed.message).toBe('line 2: not valid CSV: the quote that opens the field in column 2 is never closed.');
  });

  it('reads quoted fields holding commas, quotes and line breaks, and keeps later line numbers right', () => {
    const { valid } = csv(
      'to_phone_number,objective,business_name\n' +
        '+14155550200,"Ask about hours, prices\nand parking","The ""Best"" Diner"\n' +
        '+14155550201,Ask,Acme\n',
    );
    expect(valid[0]?.target).toMatchObject({
      objective: 'Ask about hours, prices\nand parking',
      businessName: 'The "Best" Diner',
    });
    expect(valid[1]).toMatchObject({ line: 4, key: 'line-4' });
  });

  it('names a row that spans several lines by the line it starts on, with LF, CRLF or CR line ends', () => {
    const text =
      'to_phone_number,objective\n+14155550200,"Ask about hours,\nprices\nand parking"\n\n+14155550201,Ask\n';
    for (const eol of ['\n', '\r\n', '\r']) {
      const { valid } = csv(text.replace(/\n/g, eol));
      expect(valid.map((v) => v.line)).toEqual([2, 6]);
    }
  });

  it('skips empty lines without shifting the line numbers of the rows after them', () => {
    const { valid, rows } = csv('to_phone_number,objective\n\n+14155550200,Ask\n\n\n+14155550201,Ask\n\n');
    expect(rows).toBe(2);
    expect(valid.map((v) => [v.line, v.key])).toEqual([
      [3, 'line-3'],
      [6, 'line-6'],
    ]);
  });
});

describe('validation of each target', () => {
  it('drops a repeated number, naming the line of its first occurrence', () => {
    const { valid, refusals } = csv(
      'to_phone_number,objective\n+14155550200,Ask\n+14155550201,Ask\n+14155550200,Ask again\n',
    );
    expect(valid.map((v) => v.line)).toEqual([2, 3]);
    expect(refusals).toEqual([{ line: 4, reason: 'Duplicate', message: 'same number as line 2: called once only.' }]);
  });

  it('keys targets with an id as t-<id> and refuses a repeated or malformed id', () => {
    const { valid, refusals } = csv(
      'to_phone_number,objective,id\n' +
        '+14155550200,Ask,crm-1\n' +
        '+14155550201,Ask,crm-1\n' +
        '+14155550202,Ask,has space\n' +
        `+14155550203,Ask,${'x'.repeat(65)}\n` +
        '+14155550204,Ask,\n',
    );
    expect(valid.map((v) => v.key)).toEqual(['t-crm-1', 'line-6']);
    expect(valid[0]?.target.id).toBe('crm-1');
    expect(refusals.map((r) => [r.line, r.reason, r.id?.slice(0, 10)])).toEqual([
      [3, 'InvalidId', 'crm-1'],
      [4, 'InvalidId', 'has space'],
      [5, 'InvalidId', 'xxxxxxxxxx'],
    ]);
    expect(refusals[0]?.message).toBe('id crm-1 is used by an earlier target.');
  });

  it('refuses a timezone that is not an IANA zone', () => {
    const { valid, refusals } = csv(
      'to_phone_number,objective,timezone\n+14155550200,Ask,Mars/Olympus\n+14155550201,Ask,Europe/Paris\n',
    );
    expect(valid.map((v) => v.target.timezone)).toEqual(['Europe/Paris']);
    expect(refusals).toEqual([expect.objectContaining({ line: 2, reason: 'InvalidTimezone' })]);
  });

  it('refuses emergency, placeholder, premium and malformed numbers through the call guard rails, each with its line', () => {
    const { valid, refusals } = csv(
      'to_phone_number,objective\n' +
        '+14155550200,Ask\n' +
        '911,Ask\n' +
        '+1{PHONE_NUMBER},Ask\n' +
        '+19005550100,Ask\n' +
        '(415) 555-0201,Ask\n' +
        '+112,Ask\n',
    );
    expect(valid).toHaveLength(1);
    expect(refusals.map((r) => [r.line, r.reason])).toEqual([
      [3, 'ForbiddenNumber'],
      [4, 'InvalidPhoneNumber'],
      [5, 'ForbiddenNumber'],
      [6, 'InvalidPhoneNumber'],
      [7, 'ForbiddenNumber'],
    ]);
    expect(refusals[0]?.message).toMatch(/"911" is an emergency number/);
    expect(refusals[1]?.message).toMatch(/template placeholder/);
    expect(refusals[2]?.message).toMatch(/premium-rate/);
  });

  it('refuses an empty or oversized objective and a website that is not http(s)', () => {
    const { refusals } = csv(
      'to_phone_number,objective,website\n' +
        `+14155550200,${'a'.repeat(2001)},\n` +
        '+14155550201,   ,\n' +
        '+14155550202,Ask,ftp://acme.example\n',
    );
    expect(refusals.map((r) => [r.line, r.reason])).toEqual([
      [2, 'InvalidInput'],
      [3, 'InvalidInput'],
      [4, 'InvalidInput'],
    ]);
    expect(refusals[0]?.message).toMatch(/2001 characters long, over the limit of 2000/);
    expect(refusals[1]?.message).toMatch(/objective is empty/);
  });

  it('never drops a row silently: every row is valid or refused', () => {
    const text = 'to_phone_number,objective\n+14155550200,Ask\n911,Ask\n+14155550200,Ask\nnope,Ask\n+14155550201,Ask\n';
    const { valid, refusals, rows } = csv(text);
    expect(valid.length + refusals.length).toBe(rows);
    expect([...valid.map((v) => v.line), ...refusals.map((r) => r.line)].sort()).toEqual([2, 3, 4, 5, 6]);
  });
});

describe('inline targets', () => {
  it('are validated like rows and keyed item-<index> or t-<id>', () => {
    const { valid, refusals } = validateTargets(
      inlineRows([
        { toPhoneNumber: '+14155550200', objective: 'Ask' },
        { toPhoneNumber: '911', objective: 'Ask' },
        { toPhoneNumber: '+14155550201', objective: 'Ask', id: 'crm-7' },
        null,
      ]),
    );
    expect(valid.map((v) => [v.index, v.key])).toEqual([
      [0, 'item-0'],
      [1, 't-crm-7'],
    ]);
    expect(refusals.map((r) => [r.index, r.reason])).toEqual([
      [1, 'ForbiddenNumber'],
      [3, 'InvalidPhoneNumber'],
    ]);
  });

  it('are refused above 1,000: such lists go in a CSV file', () => {
    const targets = Array.from({ length: 1001 }, (_, i) => ({
      toPhoneNumber: `+1415555${String(i).padStart(4, '0')}`,
      objective: 'Ask',
    }));
    expect(validateTargets(inlineRows(targets.slice(0, 1000))).rows).toBe(1000);
    expect(fileError(() => inlineRows(targets)).message).toMatch(
      /1001 inline targets: pass more than 1000 as targetsCsvPath/,
    );
    expect(fileError(() => inlineRows('not a list')).message).toMatch(/must be an array/);
  });
});

describe('large files', () => {
  const big = (rows: number) => {
    const lines = ['to_phone_number,objective,business_name'];
    for (let i = 0; i < rows; i++) lines.push(`+1415${2_000_000 + i},Ask about opening hours,Shop ${i}`);
    return file(`${lines.join('\n')}\n`);
  };

  it('validates a 100,000-row file', { timeout: 60_000 }, async () => {
    const { valid, refusals, rows, hash } = await readTargetsCsv(big(100_000));
    expect(rows).toBe(100_000);
    expect(refusals).toEqual([]);
    expect(valid).toHaveLength(100_000);
    expect(valid.at(-1)).toMatchObject({ index: 99_999, key: 'line-100001', line: 100_001 });
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a 100,001-row file as a whole', { timeout: 60_000 }, async () => {
    const error = await fileErrorOf(readTargetsCsv(big(100_001)));
    expect(error.message).toBe('line 100002: more than 100000 rows: at most 100000 per campaign.');
    expect(error.line).toBe(100_002);
  });
});

describe('windowStatus', () => {
  const window = { start: '08:00', end: '21:00' };
  const hour = 3600_000;
  // Etc/GMT-6 is UTC+6 all year (the sign is inverted in Etc/ names): 01:00 UTC is 07:00 there.
  const utc = (h: number, m = 0, s = 0) => Date.UTC(2025, 0, 15, h, m, s);

  it('is closed before the start and says when it opens', () => {
    expect(windowStatus('Etc/GMT-6', window, utc(1))).toEqual({ open: false, changesAt: utc(2) });
  });

  it('is open from the start and says when it closes', () => {
    expect(windowStatus('Etc/GMT-6', window, utc(2))).toEqual({ open: true, changesAt: utc(15) });
    expect(windowStatus('Etc/GMT-6', window, utc(14, 59))).toEqual({ open: true, changesAt: utc(15) });
  });

  it('is closed at the end, until the next day’s start', () => {
    expect(windowStatus('Etc/GMT-6', window, utc(15))).toEqual({ open: false, changesAt: utc(15) + 11 * hour });
  });

  it('wraps midnight for a window such as 22:00-06:00', () => {
    const night = { start: '22:00', end: '06:00' };
    // Etc/GMT+5 is UTC-5: 04:00 UTC is 23:00, 12:00 UTC is 07:00, 08:00 UTC is 03:00.
    expect(windowStatus('Etc/GMT+5', night, utc(4))).toEqual({ open: true, changesAt: utc(11) });
    expect(windowStatus('Etc/GMT+5', night, utc(8))).toEqual({ open: true, changesAt: utc(11) });
    expect(windowStatus('Etc/GMT+5', night, utc(12))).toEqual({ open: false, changesAt: utc(27) });
  });

  it('never reports a window open past its end, even seconds before it closes', () => {
    // 20:59:30 local: the window closes in 30 s, so a dial must not be allowed at 21:00:10.
    const status = windowStatus('Etc/GMT-6', window, utc(14, 59, 30));
    expect(status.open).toBe(true);
    expect(status.changesAt).toBeLessThanOrEqual(utc(15));
  });

  it('refuses bounds that are not HH:MM', () => {
    expect(() => windowStatus('UTC', { start: '8:00', end: '21:00' }, utc(1))).toThrow(RangeError);
  });
});
