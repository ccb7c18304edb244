import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCampaignActivities } from '../src/activities/campaign';
import { addCampaignCommands } from '../src/cli/commands';
import { maxTargetsFileBytes, readTargetsCsv, sha256, TargetsFileError } from '../src/domain/targets';

// Counts the bytes read through every file handle, and can make fstat report a size other than the real one (as
// files under /proc do), to prove the reader caps what it reads and not only what the size says.
const io = vi.hoisted(() => ({ bytesRead: 0, reportedSize: undefined as number | undefined }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = async (...args) => {
    const handle = await real.open(...args);
    const read = handle.read.bind(handle) as (...a: unknown[]) => Promise<{ bytesRead: number; buffer: Buffer }>;
    const stat = handle.stat.bind(handle);
    Object.assign(handle, {
      read: async (...a: unknown[]) => {
        const result = await read(...a);
        io.bytesRead += result.bytesRead;
        return result;
      },
      stat: async (...a: Parameters<typeof stat>) => {
        const stats = await stat(...a);
        if (io.reportedSize !== undefined) stats.size = io.reportedSize;
        return stats;
      },
    });
    return handle;
  };
  return { ...real, open, default: { ...real, open } };
});

const secret = 'SECRET_abc123_DO_NOT_LEAK';
const dir = mkdtempSync(join(tmpdir(), 'hostile-files-'));
let socketServer: Server;
const paths = {
  fifo: join(dir, 'targets.fifo'),
  socket: join(dir, 'targets.sock'),
  folder: join(dir, 'folder.csv'),
  sparse: join(dir, 'sparse.csv'),
  toZero: join(dir, 'zero.csv'),
  toEnviron: join(dir, 'environ.csv'),
  locked: join(dir, 'locked.csv'),
};

beforeAll(async () => {
  execFileSync('mkfifo', [paths.fifo]);
  mkdirSync(paths.folder);
  // Sparse: 50 MB + 1 byte on paper, nothing on disk, so the test costs nothing but proves the size check.
  execFileSync('truncate', ['-s', String(maxTargetsFileBytes + 1), paths.sparse]);
  symlinkSync('/dev/zero', paths.toZero);
  symlinkSync('/proc/self/environ', paths.toEnviron);
  writeFileSync(paths.locked, 'to_phone_number,objective\n+14155550200,Ask\n', { mode: 0o000 });
  socketServer = createServer().listen(paths.socket);
  await new Promise((resolve) => socketServer.once('listening', resolve));
});

afterAll(() => {
  socketServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  io.bytesRead = 0;
  io.reportedSize = undefined;
});

let files = 0;
function file(content: string | Uint8Array): string {
  const path = join(dir, `targets-${++files}.csv`);
  writeFileSync(path, content);
  return path;
}

/** The error `readTargetsCsv` rejects with, and how long it took. */
async function refusal(path: string): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await readTargetsCsv(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

const underKernel = (path: string, root: string, leadsTo = '') =>
  `${path}${leadsTo} is under ${root}: pass a regular CSV file (nothing under /proc, /sys or /dev is read).`;
const notRegular = (path: string, kind: string) => `${path} is not a regular file (${kind}): pass a CSV file.`;
const sizeLimit = `a targets file may have at most 50 MB (${maxTargetsFileBytes} bytes) and 100000 rows. Split the list into several campaigns.`;

describe('a targets file that is not a regular file of bounded size', () => {
  // Each is refused within a second with TargetsFileError, naming the path and the rule, having read nothing.
  const cases: { name: string; path: () => string; message: string | RegExp }[] = [
    { name: '/dev/zero (endless)', path: () => '/dev/zero', message: underKernel('/dev/zero', '/dev') },
    { name: '/dev/urandom (endless)', path: () => '/dev/urandom', message: underKernel('/dev/urandom', '/dev') },
    {
      name: '/dev/null (a device that reads empty)',
      path: () => '/dev/null',
      message: underKernel('/dev/null', '/dev'),
    },
    {
      name: '/dev/stdin (the worker’s own input)',
      path: () => '/dev/stdin',
      message: underKernel('/dev/stdin', '/dev'),
    },
    {
      name: '/proc/self/environ (size 0, holds the API key)',
      path: () => '/proc/self/environ',
      message: underKernel('/proc/self/environ', '/proc'),
    },
    {
      name: '/proc/self/fd/0 spelled with dot segments',
      path: () => '/tmp/../proc/self/fd/0',
      message: underKernel('/tmp/../proc/self/fd/0', '/proc', ' (it leads to /proc/self/fd/0)'),
    },
    {
      name: 'a file under /sys',
      path: () => '/sys/kernel/mm/nothing',
      message: underKernel('/sys/kernel/mm/nothing', '/sys'),
    },
    {
      name: 'a symbolic link to /dev/zero',
      path: () => paths.toZero,
      message: underKernel(paths.toZero, '/dev', ' (it leads to /dev/zero)'),
    },
    {
      name: 'a symbolic link to /proc/self/environ',
      path: () => paths.toEnviron,
      message: new RegExp(
        `^${escape(paths.toEnviron)} \\(it leads to /proc/\\d+/environ\\) is under /proc: pass a regular CSV file`,
      ),
    },
    {
      name: 'a FIFO with no writer (would block a plain open)',
      path: () => paths.fifo,
      message: notRegular(paths.fifo, 'a FIFO'),
    },
    { name: 'a directory', path: () => paths.folder, message: notRegular(paths.folder, 'a directory') },
    { name: 'a Unix socket', path: () => paths.socket, message: notRegular(paths.socket, 'a socket') },
    {
      name: 'a sparse file of 50 MB + 1 byte',
      path: () => paths.sparse,
      message: `${paths.sparse} has ${maxTargetsFileBytes + 1} bytes: ${sizeLimit}`,
    },
    {
      name: 'a missing file',
      path: () => join(dir, 'nope.csv'),
      message: `cannot read ${join(dir, 'nope.csv')}: ENOENT (no such file).`,
    },
    {
      name: 'a path through a file',
      path: () => join(paths.locked, 'x.csv'),
      message: `cannot read ${join(paths.locked, 'x.csv')}: ENOTDIR (a part of the path is not a folder).`,
    },
    {
      name: 'a path holding escape sequences, shown without them',
      path: () => join(dir, 'evil\u001b[2J\u001b]0;owned\u0007.csv'),
      message: `cannot read ${join(dir, 'evil.csv')}: ENOENT (no such file).`,
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name} at once, reading nothing`, async () => {
      const { error, ms } = await refusal(c.path());
      expect(error).toBeInstanceOf(TargetsFileError);
      const e = error as TargetsFileError;
      expect(e.constructor).toBe(TargetsFileError);
      if (typeof c.message === 'string') expect(e.message).toBe(c.message);
      else expect(e.message).toMatch(c.message);
      expect(e.line).toBeUndefined();
      expect(ms).toBeLessThan(1000);
      expect(io.bytesRead).toBe(0);
    });
  }

  it('refuses a file whose size says 0 but that holds more than 50 MB, having read 50 MB + 1 byte at most', async () => {
    const row = `+14155550200,${'a'.repeat(1000)}\n`;
    const rows = Math.ceil(maxTargetsFileBytes / row.length) + 1;
    const path = file(`to_phone_number,objective\n${row.repeat(rows)}`);
    io.reportedSize = 0;
    const { error, ms } = await refusal(path);
    expect(error).toBeInstanceOf(TargetsFileError);
    expect((error as Error).message).toBe(`${path} has more than 50 MB: ${sizeLimit}`);
    expect(io.bytesRead).toBe(maxTargetsFileBytes + 1);
    expect(ms).toBeLessThan(20_000);
  }, 60_000);

  it('accepts a file whose size is exactly the limit', async () => {
    const path = file('to_phone_number,objective\n+14155550200,Ask\n');
    io.reportedSize = maxTargetsFileBytes;
    const { valid } = await readTargetsCsv(path);
    expect(valid).toHaveLength(1);
  });
});

describe('the workers refuse such files as InvalidInput, dialing nobody', () => {
  const activities = createCampaignActivities();

  it('inspectCampaignTargets answers not ok with the message, so the campaign fails before approval', async () => {
    for (const path of ['/dev/zero', paths.fifo, paths.sparse, '/proc/self/environ']) {
      const started = performance.now();
      const inspected = await activities.inspectCampaignTargets({ targetsCsvPath: path });
      expect(performance.now() - started).toBeLessThan(1000);
      expect(inspected.ok).toBe(false);
      expect(inspected).toEqual({ ok: false, message: expect.stringContaining(path) });
    }
  });

  it('loadCampaignTargets fails non-retryably with InvalidInput for a FIFO or a device put at the path', async () => {
    for (const path of ['/dev/zero', paths.fifo, paths.toZero]) {
      const error = await activities
        .loadCampaignTargets({ targetsCsvPath: path, sourceHash: sha256(''), from: 0, count: 1000 })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(ApplicationFailure);
      expect(error).toMatchObject({ type: 'InvalidInput', nonRetryable: true, message: expect.stringContaining(path) });
    }
  });

  it('loadCampaignTargets says a file changed since approval, whether it still parses or not', async () => {
    const approved = 'to_phone_number,objective\n+14155550200,Ask\n';
    const sourceHash = sha256(approved);
    for (const now of ['to_phone_number,objective\n+14155550201,Ask\n', 'to_phone_number,objective\n+1415,"open\n']) {
      const path = file(now);
      await expect(
        activities.loadCampaignTargets({ targetsCsvPath: path, sourceHash, from: 0, count: 10 }),
      ).rejects.toMatchObject({
        type: 'InvalidInput',
        nonRetryable: true,
        message: `${path} changed after it was validated and approved. Start a new campaign with the new file.`,
      });
    }
    expect(
      await activities.loadCampaignTargets({ targetsCsvPath: file(approved), sourceHash, from: 0, count: 10 }),
    ).toHaveLength(1);
  });

  it('names the parse problem, not a change, when the approved bytes fail a rule added since', async () => {
    // Bigger than one read, so that the rest of the file is hashed after the parser stopped at the header.
    const bytes = `phone,to_phone_number,objective\n${'+14155550200,+14155550200,Ask\n'.repeat(5000)}`;
    const path = file(bytes);
    await expect(
      activities.loadCampaignTargets({ targetsCsvPath: path, sourceHash: sha256(bytes), from: 0, count: 10 }),
    ).rejects.toMatchObject({
      type: 'InvalidInput',
      message:
        'line 1: the header has two columns for to_phone_number: phone (column 1) and to_phone_number (column 2). Keep one of them.',
    });
  });
});

describe('parser messages name the line, the column and the problem, never the file’s content', () => {
  const header = 'to_phone_number,objective,business_name\n';
  const cases: { name: string; content: string | Buffer; message: string; line: number }[] = [
    {
      name: 'an unclosed quote',
      content: `${header}+14155550200,Ask,Acme\n+14155550201,"${secret} and on\nand on\n`,
      message: 'line 3: not valid CSV: the quote that opens the field in column 2 is never closed.',
      line: 3,
    },
    {
      name: 'a quote inside an unquoted field',
      content: `${header}+14155550200,Ask ${secret}"x",Acme\n`,
      message:
        'line 2: not valid CSV: a quote inside the field in column 2, which does not start with one. Quote the whole field and double the quotes inside it ("").',
      line: 2,
    },
    {
      name: 'text after a closing quote',
      content: `${header}+14155550200,"Ask"${secret},Acme\n`,
      message: 'line 2: not valid CSV: text after the closing quote of the field in column 2.',
      line: 2,
    },
    {
      name: 'a row with more fields than the header',
      content: `${header}+14155550200,Ask,Acme,${secret}\n`,
      message: 'line 2: not valid CSV: 4 fields, but the header has 3 columns.',
      line: 2,
    },
    {
      name: 'a row of more than 64,000 characters',
      content: `${header}+14155550200,${secret}${'x'.repeat(70_000)},Acme\n`,
      message: 'line 2: not valid CSV: a row longer than 64000 bytes.',
      line: 2,
    },
    {
      name: 'bytes that are not UTF-8',
      content: Buffer.concat([
        Buffer.from(`${header}+14155550200,${secret}`),
        Buffer.from([0xff, 0xfe]),
        Buffer.from('\n'),
      ]),
      message: 'line 2: the file is not UTF-8 text. Save it as UTF-8 CSV.',
      line: 2,
    },
    {
      name: 'a header that is a secret',
      content: `${secret}=1\nOTHER=2\n`,
      message: 'line 1: the header lacks the column(s) to_phone_number, objective.',
      line: 1,
    },
    {
      name: 'an environment dump (NUL-separated, as /proc/self/environ)',
      content: `PATH=/usr/bin\u0000AGENTPHONE_API_KEY=${secret}\u0000HOME=/root\u0000`,
      message: 'line 1: the header lacks the column(s) to_phone_number, objective.',
      line: 1,
    },
    {
      name: 'a phone column twice (two aliases)',
      content: `phone,objective,to_phone_number\n+14155550200,${secret},+14155550201\n`,
      message:
        'line 1: the header has two columns for to_phone_number: phone (column 1) and to_phone_number (column 3). Keep one of them.',
      line: 1,
    },
    {
      name: 'the same column twice',
      content: `to_phone_number,objective,objective\n+14155550200,Ask,${secret}\n`,
      message:
        'line 1: the header has two columns for objective: objective (column 2) and objective (column 3). Keep one of them.',
      line: 1,
    },
    {
      name: 'phone_number and phone, in other cases and with spaces',
      content: ` Phone_Number ,objective, PHONE\n+14155550200,Ask,${secret}\n`,
      message:
        'line 1: the header has two columns for to_phone_number: phone_number (column 1) and phone (column 3). Keep one of them.',
      line: 1,
    },
    {
      name: 'business_name twice',
      content: `to_phone_number,objective,business_name,business_name\n+14155550200,Ask,Acme,${secret}\n`,
      message:
        'line 1: the header has two columns for business_name: business_name (column 3) and business_name (column 4). Keep one of them.',
      line: 1,
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.name} without quoting it`, async () => {
      const { error } = await refusal(file(c.content));
      expect(error).toBeInstanceOf(TargetsFileError);
      const e = error as TargetsFileError;
      expect(e.message).toBe(c.message);
      expect(e.line).toBe(c.line);
      expect(e.message).not.toContain(secret);
      expect(e.message).not.toContain('SECRET');
    });
  }

  it('reads a file whose unknown columns repeat: nobody reads them', async () => {
    const { valid, refusals } = await readTargetsCsv(
      file('to_phone_number,notes,objective,notes\n+14155550200,a,Ask,b\n'),
    );
    expect(refusals).toEqual([]);
    expect(valid.map((v) => v.target)).toEqual([
      { toPhoneNumber: '+14155550200', objective: 'Ask', timezone: 'America/Los_Angeles' },
    ]);
  });

  it('reads line numbers right across read chunks, with a multi-byte character cut at the chunk edge', async () => {
    // 'é' is two bytes: 30,000 of them a row span the first 64 KiB read; the padding puts its edge inside one.
    const long = 'é'.repeat(30_000);
    const text = (pad: string) =>
      `to_phone_number,objective,notes,business_name\r\n+14155550200,Ask${pad},${long},Café\r\n` +
      `+14155550201,Ask,${long},Zoë\r\n\r\n+14155550202,Ask,,Bar\r\n`;
    const content = [text(''), text('!')].find((t) => Buffer.from(t)[64 * 1024] === 0xa9)!;
    const { valid, refusals, hash } = await readTargetsCsv(file(content));
    expect(refusals).toEqual([]);
    expect(valid.map((v) => [v.line, v.target.businessName])).toEqual([
      [2, 'Café'],
      [3, 'Zoë'],
      [5, 'Bar'],
    ]);
    expect(hash).toBe(sha256(content));
  });

  it('names the line of a bad byte that comes after a chunk edge', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => `+1415${2_000_000 + i},Ask about opening hours,Shop ${i}`);
    const bad = Buffer.concat([
      Buffer.from(`${header}${lines.join('\n')}\n+14155550000,Ask,Caf`),
      Buffer.from([0xe9]),
      Buffer.from('\n'),
    ]);
    expect(bad.length).toBeGreaterThan(64 * 1024);
    const { error } = await refusal(file(bad));
    expect((error as TargetsFileError).line).toBe(3002);
  });
});

describe('campaign start --file refuses such files before it connects to Temporal', () => {
  /** Runs `starter campaign …` in this process: the file is checked before any connection, so none is needed. */
  async function campaign(...args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const program = new Command()
      .exitOverride()
      .configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
    addCampaignCommands(program);
    const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
    const started = performance.now();
    let commanderError: CommanderError | undefined;
    try {
      await program.parseAsync(['campaign', ...args], { from: 'user' });
    } catch (e) {
      if (!(e instanceof CommanderError)) throw e;
      commanderError = e;
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
    const code = process.exitCode;
    process.exitCode = undefined;
    return { code, commanderError, stdout: out.join('\n'), stderr: err.join('\n'), ms: performance.now() - started };
  }

  const cases: { name: string; file: () => string; stderr: string }[] = [
    { name: '/dev/zero', file: () => '/dev/zero', stderr: underKernel('/dev/zero', '/dev') },
    { name: 'a FIFO', file: () => paths.fifo, stderr: notRegular(paths.fifo, 'a FIFO') },
    {
      name: 'a link to /dev/zero',
      file: () => paths.toZero,
      stderr: underKernel(paths.toZero, '/dev', ' (it leads to /dev/zero)'),
    },
    {
      name: 'a 50 MB + 1 byte file',
      file: () => paths.sparse,
      stderr: `${paths.sparse} has ${maxTargetsFileBytes + 1} bytes: ${sizeLimit}`,
    },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} within a second with exit code 2, starting nothing`, async () => {
      const result = await campaign('start', '--file', c.file());
      expect(result.commanderError).toBeUndefined();
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(`${c.stderr}\nNothing was started.`);
      expect(result.ms).toBeLessThan(1000);
    });
  }

  it('names the line of a malformed file after its path, never the content', async () => {
    const path = file(`to_phone_number,objective\n+14155550200,"${secret}\n`);
    const result = await campaign('start', '--file', path, '--json');
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      failure: {
        type: 'InvalidInput',
        message: `${path}: line 2: not valid CSV: the quote that opens the field in column 2 is never closed.`,
        line: 2,
        started: false,
      },
    });
    expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('bounds --calls-per-minute by the API ceiling of 10 creates a minute', async () => {
    for (const value of ['0', '11', '10000']) {
      const result = await campaign('start', '--file', '/dev/zero', '--calls-per-minute', value);
      expect(result.commanderError?.code).toBe('commander.invalidArgument');
      expect(result.stderr).toContain(
        `option '--calls-per-minute <n>' argument '${value}' is invalid. a whole number from 1 to 10: ` +
          'the AgentPhone API creates at most 10 calls a minute per key.',
      );
      expect(result.stdout).toBe('');
    }
    // 10 passes the option check: the file is what stops this one.
    const ten = await campaign('start', '--file', '/dev/zero', '--calls-per-minute', '10');
    expect(ten.commanderError).toBeUndefined();
    expect(ten.stderr).toBe(`${underKernel('/dev/zero', '/dev')}\nNothing was started.`);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
