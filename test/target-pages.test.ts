import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCampaignActivities } from '../src/activities/campaign';
import { readTargetsCsv } from '../src/domain/targets';

// Counts the CSV parses (csv-parse's streaming parser, which every full read uses) and the files opened (a full
// read or a hash of the file opens it once; a page proven by the file's identity opens nothing).
const io = vi.hoisted(() => ({ parses: 0, opens: 0 }));
vi.mock('csv-parse', async (importOriginal) => {
  const real = await importOriginal<typeof import('csv-parse')>();
  const parse = ((...args: Parameters<typeof real.parse>) => {
    io.parses++;
    return real.parse(...args);
  }) as typeof real.parse;
  return { ...real, parse };
});
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof real.open = (...args) => {
    io.opens++;
    return real.open(...args);
  };
  return { ...real, open, default: { ...real, open } };
});

const dir = mkdtempSync(join(tmpdir(), 'target-pages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeEach(() => {
  io.parses = 0;
  io.opens = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

let files = 0;
/** A list of `rows` distinct valid numbers from `first` on, at a new path. */
function list(rows: number, first = 2_000_000): string {
  const lines = ['to_phone_number,objective,business_name'];
  for (let i = 0; i < rows; i++) lines.push(`+1415${first + i},Ask about opening hours,Shop ${i}`);
  const path = join(dir, `targets-${++files}.csv`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const pageSize = 200;

type Activities = ReturnType<typeof createCampaignActivities>;

/** Every page of the file, as the campaign asks for them, one after the other. */
async function allPages(activities: Activities, targetsCsvPath: string, sourceHash: string, rows: number) {
  const pages = [];
  for (let from = 0; from < rows; from += pageSize)
    pages.push(await activities.loadCampaignTargets({ targetsCsvPath, sourceHash, from, count: pageSize }));
  return pages;
}

async function inspect(activities: Activities, targetsCsvPath: string): Promise<string> {
  const inspected = await activities.inspectCampaignTargets({ targetsCsvPath });
  if (!inspected.ok) throw new Error(inspected.message);
  return inspected.inspection.sourceHash;
}

/** The failure of a page, or undefined if it was served. */
async function failureOf(activities: Activities, targetsCsvPath: string, sourceHash: string, from = 0) {
  return activities.loadCampaignTargets({ targetsCsvPath, sourceHash, from, count: pageSize }).then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** What a worker that never read the file answers: the full read with the approved hash, as every page made before. */
const withoutCache = (targetsCsvPath: string, sourceHash: string, from = 0) =>
  failureOf(createCampaignActivities(), targetsCsvPath, sourceHash, from);

/** Moves the clock on, as between a real campaign's approval and its pages: the file's times are then long past. */
function later(ms = 60_000) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + ms);
}

describe('a worker pages through an approved list parsing it once', () => {
  it('parses a 1,000-row file once for its inspection and all 5 pages, and serves what a full read gives', async () => {
    const path = list(1000);
    const { valid } = await readTargetsCsv(path);
    io.parses = 0;

    const activities = createCampaignActivities();
    const sourceHash = await inspect(activities, path);
    const pages = await allPages(activities, path, sourceHash, 1000);

    expect(io.parses).toBe(1);
    expect(pages.map((p) => p.length)).toEqual([200, 200, 200, 200, 200]);
    expect(pages.flat()).toEqual(valid);
    expect(
      await activities.loadCampaignTargets({ targetsCsvPath: path, sourceHash, from: 1000, count: pageSize }),
    ).toEqual([]);
    expect(io.parses).toBe(1);
  });

  it('parses it once at its first page on a worker that did not inspect it', async () => {
    const path = list(1000);
    const sourceHash = await inspect(createCampaignActivities(), path);
    io.parses = 0;

    const pages = await allPages(createCampaignActivities(), path, sourceHash, 1000);
    expect(io.parses).toBe(1);
    expect(pages.flat()).toHaveLength(1000);
  });

  it('hashes a file written moments before its read at every page, and stops once it has not changed for a while', async () => {
    const path = list(1000);
    const activities = createCampaignActivities();
    const sourceHash = await inspect(activities, path);
    io.opens = 0;

    await allPages(activities, path, sourceHash, 400);
    expect(io.opens).toBe(2);
    later();
    // The first page after the wait hashes the file once more and finds it settled; the next ones only stat it.
    await allPages(activities, path, sourceHash, 1000);
    expect(io.opens).toBe(3);
    expect(io.parses).toBe(1);
  });

  it('serves two lists paged in turn from their own entries, and reads a list again once a third pushed it out', async () => {
    const [a, b, c] = [list(400, 2_000_000), list(400, 3_000_000), list(400, 4_000_000)];
    const activities = createCampaignActivities();
    const [hashA, hashB] = [await inspect(activities, a), await inspect(activities, b)];
    const page = (path: string, sourceHash: string, from: number) =>
      activities.loadCampaignTargets({ targetsCsvPath: path, sourceHash, from, count: pageSize });

    const turns = [
      await page(b, hashB, 0),
      await page(a, hashA, 0),
      await page(b, hashB, 200),
      await page(a, hashA, 200),
    ];
    expect(turns.map((p) => p[0]!.target.toPhoneNumber)).toEqual([
      '+14153000000',
      '+14152000000',
      '+14153000200',
      '+14152000200',
    ]);
    expect(io.parses).toBe(2);

    // Two lists are kept: the third pushes out the one used least recently (b, though a was read first).
    await inspect(activities, c);
    expect(io.parses).toBe(3);
    expect((await page(a, hashA, 0))[0]!.target.toPhoneNumber).toBe('+14152000000');
    expect(io.parses).toBe(3);
    expect((await page(b, hashB, 200))[0]!.target.toPhoneNumber).toBe('+14153000200');
    expect(io.parses).toBe(4);
  });
});

describe('a page still proves that it comes from the approved bytes', () => {
  const changedMessage = (path: string) =>
    `${path} changed after it was validated and approved. Start a new campaign with the new file.`;

  it('fails the next page as a full read does when the file is rewritten in place to other bytes of the same size', async () => {
    const path = list(1000);
    const activities = createCampaignActivities();
    const sourceHash = await inspect(activities, path);
    await allPages(activities, path, sourceHash, 400);

    // Same size, same inode, written within the same clock tick as likely as not: only the bytes tell.
    writeFileSync(path, readFileSync(path, 'utf8').replace('+14152000500', '+14152000501'));
    const error = await failureOf(activities, path, sourceHash, 400);
    expect(io.parses).toBe(1);
    expect(error).toMatchObject({ type: 'InvalidInput', nonRetryable: true, message: changedMessage(path) });
    expect(error).toEqual(await withoutCache(path, sourceHash, 400));
  });

  const changes: [string, (path: string) => void, (path: string) => string][] = [
    ['no longer parses', (path) => writeFileSync(path, 'to_phone_number,objective\n+1415,"open\n'), changedMessage],
    ['grew by a row', (path) => appendFileSync(path, '+14159999999,Ask,Shop\n'), changedMessage],
    ['is gone', (path) => rmSync(path), (path) => `cannot read ${path}: ENOENT (no such file).`],
  ];
  for (const [what, change, message] of changes) {
    it(`fails as a full read does for a file that ${what}, even once its identity was trusted`, async () => {
      const path = list(400);
      const activities = createCampaignActivities();
      later();
      const sourceHash = await inspect(activities, path);
      await allPages(activities, path, sourceHash, 200);

      change(path);
      const error = await failureOf(activities, path, sourceHash, 200);
      expect(error).toMatchObject({ type: 'InvalidInput', nonRetryable: true, message: message(path) });
      expect(error).toEqual(await withoutCache(path, sourceHash, 200));
    });
  }

  it('proves a file replaced by the same bytes by hashing it, without parsing it again', async () => {
    const path = list(1000);
    const activities = createCampaignActivities();
    later();
    const sourceHash = await inspect(activities, path);
    await allPages(activities, path, sourceHash, 400);
    expect(io.opens).toBe(1);

    // A copy put in its place: a new inode, the same bytes.
    const copy = join(dir, 'copy.csv');
    writeFileSync(copy, readFileSync(path));
    renameSync(copy, path);
    const pages = await allPages(activities, path, sourceHash, 1000);
    expect(pages.flat()).toHaveLength(1000);
    expect(io.opens).toBe(2);
    expect(io.parses).toBe(1);
  });

  it('fails a page for another file put at the path, even one whose identity was trusted', async () => {
    const path = list(1000);
    const activities = createCampaignActivities();
    later();
    const sourceHash = await inspect(activities, path);
    await allPages(activities, path, sourceHash, 400);

    const other = list(1000, 3_000_000);
    renameSync(other, path);
    const error = await failureOf(activities, path, sourceHash, 400);
    expect(error).toMatchObject({ type: 'InvalidInput', nonRetryable: true, message: changedMessage(path) });
    expect(error).toEqual(await withoutCache(path, sourceHash, 400));
  });
});
