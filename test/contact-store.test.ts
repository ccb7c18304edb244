import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Cap,
  type ContactStore,
  type ContactStoreOptions,
  ContactStoreConfigError,
  ContactStoreInputError,
  ContactStoreLockedError,
  contactStoreOptionsFromEnv,
  DncImportError,
  type DncImportRow,
  embeddedDatabaseDir,
  HashKeyMismatchError,
  InvalidPhoneNumberError,
  lockFileName,
  migrations,
  openContactStore,
  type Reservation,
  ReservationConflictError,
  UnknownReservationError,
} from '../src/contact-store';
import { startPostgres, type TestPostgres } from './helpers/postgres';

const root = join(__dirname, '..');
const scratch = mkdtempSync(join(tmpdir(), 'agentphone-contact-store-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A database (or data directory) of its own, and a way to read its tables and files behind the store's back. */
interface Location {
  options: ContactStoreOptions;
  /** Runs SQL on the database directly. An embedded store must be closed first (PGlite holds its files alone). */
  query<Row = Record<string, unknown>>(sql: string): Promise<Row[]>;
  /** Every file the database keeps its data in. */
  files(): Promise<string[]>;
}

interface Backend {
  kind: 'embedded' | 'postgres';
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A new location: `empty`, never opened; `migrated`, opened once (cheaper for PGlite, whose initdb is slow). */
  newLocation(state: 'empty' | 'migrated'): Promise<Location>;
}

let dirs = 0;
const newDir = () => join(scratch, `store-${++dirs}`);

function embeddedBackend(): Backend {
  let template = '';
  return {
    kind: 'embedded',
    async setUp() {
      template = newDir();
      const store = await openContactStore({ dataDir: template });
      await store.close();
    },
    async tearDown() {},
    async newLocation(state) {
      const dataDir = newDir();
      if (state === 'migrated') cpSync(template, dataDir, { recursive: true });
      return {
        options: { dataDir },
        async query<Row>(sql: string) {
          const pg = await PGlite.create({ dataDir: embeddedDatabaseDir(dataDir) });
          try {
            return (await pg.query<Row>(sql)).rows;
          } finally {
            await pg.close();
          }
        },
        files: async () => filesUnder(dataDir),
      };
    },
  };
}

function postgresBackend(): Backend {
  let server: TestPostgres | undefined;
  const running = () => {
    if (!server) throw new Error('PostgreSQL did not start: see the error of the first test');
    return server;
  };
  return {
    kind: 'postgres',
    async setUp() {
      server = await startPostgres();
    },
    async tearDown() {
      await server?.stop();
    },
    async newLocation() {
      const databaseUrl = await running().createDatabase();
      return {
        options: { databaseUrl },
        async query<Row>(sql: string) {
          const client = new Client({ connectionString: databaseUrl });
          await client.connect();
          try {
            return (await client.query(sql)).rows as Row[];
          } finally {
            await client.end();
          }
        },
        async files() {
          // Whatever was committed is in the WAL; a checkpoint writes the tables' pages too.
          const client = new Client({ connectionString: databaseUrl });
          await client.connect();
          await client.query('CHECKPOINT');
          await client.end();
          return filesUnder(running().dataDir);
        },
      };
    },
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

let serial = 0;
/** A number no other test of this file uses. */
const nextNumber = () => `+1415555${String(1000 + ++serial)}`;
let reservations = 0;
const nextId = (label = 'call') => `${label}-${process.pid}-${++reservations}`;

const hour = 3_600_000;
const oncePerHour: Cap = { name: '1 an hour', limit: 1, windowMs: hour, scope: 'number' };
const t0 = Date.UTC(2030, 0, 1, 12);

async function* rowsOf(lines: Iterable<string>): AsyncGenerator<DncImportRow> {
  let line = 0;
  for (const number of lines) yield { number, line: ++line };
}

/** The rows of a CSV text with a header: `number` first, line numbers as a file shows them (the header is 1). */
async function* csvRows(text: string): AsyncGenerator<DncImportRow> {
  const lines = text.split('\n');
  for (let index = 1; index < lines.length; index++) {
    const number = lines[index]!.split(',')[0]!;
    if (number !== '') yield { number, line: index + 1 };
  }
}

describe.each([embeddedBackend(), postgresBackend()])('the $kind contact store', (backend) => {
  let store: ContactStore;

  beforeAll(async () => {
    await backend.setUp();
    store = await openContactStore((await backend.newLocation('migrated')).options);
  }, 180_000);

  afterAll(async () => {
    await store?.close();
    await backend.tearDown();
  });

  it(`is a ${backend.kind} store`, () => {
    expect(store.kind).toBe(backend.kind);
  });

  it('applies every migration at its first open, and none when opened again', async () => {
    const location = await backend.newLocation('empty');
    const first = await openContactStore(location.options);
    expect(first.migrated).toEqual(migrations.map((m) => m.version));
    await first.close();
    const again = await openContactStore(location.options);
    expect(again.migrated).toEqual([]);
    await again.close();
    const rows = await location.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((row) => Number(row.version))).toEqual(migrations.map((m) => m.version));
  });

  describe('the DNC list', () => {
    it('finds a number once it is added, and updates who, when and why when it is added again', async () => {
      const number = nextNumber();
      expect(await store.dnc.check(number)).toBeUndefined();
      const added = await store.dnc.add({ number, by: 'ops@example.com', reason: 'asked', source: 'opt-out', at: t0 });
      expect(added).toEqual({ number, by: 'ops@example.com', reason: 'asked', source: 'opt-out', at: t0 });
      expect(await store.dnc.check(number)).toEqual(added);

      const updated = await store.dnc.add({ number, by: 'agent', at: t0 + 1 });
      expect(updated).toEqual({ number, by: 'agent', at: t0 + 1 });
      expect(await store.dnc.check(number)).toEqual(updated);
    });

    it('removes a number, and says whether it was on the list', async () => {
      const number = nextNumber();
      await store.dnc.add({ number, by: 'ops' });
      expect(await store.dnc.remove(number, 'ops')).toBe(true);
      expect(await store.dnc.check(number)).toBeUndefined();
      expect(await store.dnc.remove(number, 'ops')).toBe(false);
    });

    it('lists the numbers in order, page by page, with the count of them all', async () => {
      const own = await openContactStore((await backend.newLocation('migrated')).options);
      try {
        const numbers = Array.from({ length: 25 }, () => nextNumber()).reverse();
        for (const number of numbers) await own.dnc.add({ number, by: 'ops', at: t0 });
        const sorted = [...numbers].sort();
        const first = await own.dnc.list({ offset: 0, limit: 10 });
        const last = await own.dnc.list({ offset: 20, limit: 10 });
        expect(first.total).toBe(25);
        expect(first.entries.map((e) => e.number)).toEqual(sorted.slice(0, 10));
        expect(last.entries.map((e) => e.number)).toEqual(sorted.slice(20));
        expect(last.entries[0]).toEqual({ number: sorted[20], by: 'ops', at: t0 });
        await expect(own.dnc.list({ offset: 0, limit: 0 })).rejects.toThrow(ContactStoreInputError);
      } finally {
        await own.close();
      }
    });

    it('imports a CSV file, counting the numbers added and those already listed', async () => {
      const [listed, fresh1, fresh2] = [nextNumber(), nextNumber(), nextNumber()];
      await store.dnc.add({ number: listed, by: 'ops', reason: 'old', at: t0 });
      const csv = `number,name\n${fresh1},Ann\n${listed},Bo\n\n${fresh2},Cy\n${fresh1},Ann again\n`;
      const result = await store.dnc.importRows(csvRows(csv), {
        by: 'ops',
        source: 'regulator-2030-01.csv',
        at: t0 + 5,
      });
      expect(result).toEqual({ added: 2, updated: 2 });
      expect(await store.dnc.check(listed)).toEqual({
        number: listed,
        by: 'ops',
        source: 'regulator-2030-01.csv',
        at: t0 + 5,
      });
      expect(await store.dnc.check(fresh2)).toMatchObject({ source: 'regulator-2030-01.csv' });
    });

    it('refuses an import with bad lines whole, naming the first 20 by line number, masked', async () => {
      const good = nextNumber();
      const bad = Array.from({ length: 25 }, (_, i) => `(415) 555-${String(2000 + i)}`);
      const lines = [good, '+1 415 555 0199', ...bad, nextNumber()];
      const error = await store.dnc.importRows(rowsOf(lines), { by: 'ops', source: 'bad.csv' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DncImportError);
      const refused = error as DncImportError;
      expect(refused.name).toBe('DncImportError');
      expect(refused.badLineCount).toBe(26);
      expect(refused.badLines).toHaveLength(20);
      expect(refused.badLines[0]).toEqual({ line: 2, masked: '+• ••• ••• 0199', problem: expect.any(String) });
      expect(refused.badLines[1]).toMatchObject({ line: 3, masked: '(•••) •••-2000' });
      expect(refused.message).toContain('line 21:');
      expect(refused.message).toContain('and 6 more');
      expect(refused.message).not.toMatch(/555.0199|555-20/);
      expect(await store.dnc.check(good)).toBeUndefined();
    });

    it('imports 100,000 rows in batches, without holding them in memory', async () => {
      const count = 100_000;
      async function* many(): AsyncGenerator<DncImportRow> {
        for (let i = 0; i < count; i++) yield { number: `+1212${String(i).padStart(7, '0')}`, line: i + 1 };
      }
      const rssBefore = process.memoryUsage().rss;
      const started = Date.now();
      const result = await store.dnc.importRows(many(), { by: 'ops', source: 'bulk.csv' });
      const seconds = (Date.now() - started) / 1000;
      const grewMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
      expect(result).toEqual({ added: count, updated: 0 });
      expect(await store.dnc.check('+12120099999')).toMatchObject({ source: 'bulk.csv' });
      // Loose, and no timing: it grows by a few MiB here, for 300,000 rows as for 100,000 (PGlite's WASM heap by its
      // buffers, once). The bound catches a store that keeps every row, or builds one statement of them all.
      expect(grewMiB, `rss grew ${grewMiB.toFixed(0)} MiB in ${seconds.toFixed(1)} s`).toBeLessThan(200);
    }, 180_000);

    it('refuses a number that is not E.164 with a typed error that shows it masked', async () => {
      for (const value of [
        '4155550123',
        '+1 415 555 0123',
        '+0123456789',
        '+1234567890123456',
        '',
        'tel:+14155550123',
      ]) {
        const error = await store.dnc.check(value).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, value).toBeInstanceOf(InvalidPhoneNumberError);
        expect((error as Error).name).toBe('InvalidPhoneNumberError');
        if (value !== '') expect((error as Error).message).not.toContain(value);
      }
      await expect(store.dnc.add({ number: '+1415555', by: 'ops' })).resolves.toMatchObject({ number: '+1415555' });
      await expect(store.reserve({ reservationId: nextId(), number: '14155550123', at: t0, caps: [] })).rejects.toThrow(
        InvalidPhoneNumberError,
      );
    });
  });

  describe('reserve', () => {
    it('lets exactly one of 20 simultaneous reserves for one number through a cap of 1', async () => {
      const number = nextNumber();
      // Every connection of the pool open first, so that the 20 run side by side rather than as each connects.
      await Promise.all(Array.from({ length: 20 }, () => store.dnc.check(number)));
      const verdicts = await Promise.all(
        Array.from({ length: 20 }, () =>
          store.reserve({ reservationId: nextId(), number, at: t0, caps: [oncePerHour] }),
        ),
      );
      const reserved = verdicts.filter((v) => v.kind === 'reserved');
      expect(reserved).toHaveLength(1);
      expect(verdicts.filter((v) => v.kind === 'capped')).toEqual(
        Array.from({ length: 19 }, () => ({ kind: 'capped', cap: '1 an hour', allowedAt: t0 + hour })),
      );
    });

    it('says when the oldest counted contact leaves the window, and reserves again from then on', async () => {
      const number = nextNumber();
      const twice: Cap = { name: '2 an hour', limit: 2, windowMs: hour, scope: 'number' };
      const at = (offset: number, caps = [twice]) =>
        store.reserve({ reservationId: nextId(), number, at: t0 + offset, caps });
      expect(await at(0)).toMatchObject({ kind: 'reserved', at: t0 });
      expect(await at(10)).toMatchObject({ kind: 'reserved', at: t0 + 10 });
      expect(await at(20)).toEqual({ kind: 'capped', cap: '2 an hour', allowedAt: t0 + hour });
      expect(await at(hour - 1)).toEqual({ kind: 'capped', cap: '2 an hour', allowedAt: t0 + hour });
      expect(await at(hour)).toMatchObject({ kind: 'reserved', at: t0 + hour });

      // Of several full caps, the one that frees last is named.
      const daily: Cap = { name: '3 a day', limit: 3, windowMs: 24 * hour, scope: 'number' };
      expect(await at(hour + 5, [twice, daily])).toEqual({ kind: 'capped', cap: '3 a day', allowedAt: t0 + 24 * hour });
    });

    it('screens numbers in batches as reserve would decide them, reserving nothing', async () => {
      const [listed, full, released, clear] = [nextNumber(), nextNumber(), nextNumber(), nextNumber()];
      const twice: Cap = { name: '2 an hour', limit: 2, windowMs: hour, scope: 'number' };
      const daily: Cap = { name: '3 a day', limit: 3, windowMs: 24 * hour, scope: 'number' };
      await store.dnc.add({ number: listed, by: 'dana' });
      await store.reserve({ reservationId: nextId(), number: full, at: t0, caps: [] });
      await store.reserve({ reservationId: nextId(), number: full, at: t0 + 10, caps: [] });
      const releasedId = nextId();
      await store.reserve({ reservationId: releasedId, number: released, at: t0, caps: [] });
      await store.reserve({ reservationId: nextId(), number: released, at: t0 + 1, caps: [] });
      await store.release(releasedId);
      // More than one batch, in order; numbers repeated and padded with clear ones.
      const padding = Array.from({ length: 1500 }, () => nextNumber());
      const numbers = [listed, full, released, clear, ...padding, full];
      const verdicts = await store.screen(
        numbers.map((number) => ({ number, caps: [twice, daily] })),
        t0 + 20,
      );
      expect(verdicts.slice(0, 4)).toEqual([
        { kind: 'do_not_call' },
        { kind: 'capped', cap: '2 an hour', allowedAt: t0 + hour },
        { kind: 'clear' },
        { kind: 'clear' },
      ]);
      expect(verdicts).toHaveLength(numbers.length);
      expect(verdicts.slice(4, -1).every((v) => v.kind === 'clear')).toBe(true);
      expect(verdicts.at(-1)).toEqual({ kind: 'capped', cap: '2 an hour', allowedAt: t0 + hour });
      // The same verdict reserve gives, and screening counted nothing.
      expect(await store.reserve({ reservationId: nextId(), number: full, at: t0 + 20, caps: [twice] })).toEqual({
        kind: 'capped',
        cap: '2 an hour',
        allowedAt: t0 + hour,
      });
      expect(await store.reserve({ reservationId: nextId(), number: clear, at: t0 + 20, caps: [twice] })).toMatchObject(
        { kind: 'reserved' },
      );
      await expect(store.screen([{ number: '911', caps: [] }], t0)).rejects.toThrow(InvalidPhoneNumberError);
    });

    it('returns the first verdict to the same reservation id, and counts it once', async () => {
      const number = nextNumber();
      const twice: Cap = { name: '2 an hour', limit: 2, windowMs: hour, scope: 'number' };
      const id = nextId('workflow');
      const first = await store.reserve({ reservationId: id, number, at: t0, caps: [twice] });
      expect(first).toEqual({ kind: 'reserved', reservationId: id, at: t0 });
      for (let retry = 1; retry <= 3; retry++) {
        expect(await store.reserve({ reservationId: id, number, at: t0 + retry, caps: [twice] })).toEqual(first);
      }
      expect(await store.reserve({ reservationId: nextId(), number, at: t0 + 5, caps: [twice] })).toMatchObject({
        kind: 'reserved',
      });
      const cappedId = nextId();
      const capped = await store.reserve({ reservationId: cappedId, number, at: t0 + 6, caps: [twice] });
      expect(capped).toEqual({ kind: 'capped', cap: '2 an hour', allowedAt: t0 + hour });
      // A refusal too: a new attempt after allowedAt takes a new id.
      expect(await store.reserve({ reservationId: cappedId, number, at: t0 + 2 * hour, caps: [twice] })).toEqual(
        capped,
      );
    });

    it('refuses a reservation id used again for another number or campaign', async () => {
      const id = nextId();
      await store.reserve({ reservationId: id, number: nextNumber(), at: t0, caps: [] });
      await expect(store.reserve({ reservationId: id, number: nextNumber(), at: t0, caps: [] })).rejects.toThrow(
        ReservationConflictError,
      );
      const inCampaign = nextId();
      const number = nextNumber();
      await store.reserve({ reservationId: inCampaign, number, campaignId: 'spring', at: t0, caps: [] });
      await expect(
        store.reserve({ reservationId: inCampaign, number, campaignId: 'autumn', at: t0, caps: [] }),
      ).rejects.toThrow(ReservationConflictError);
    });

    it('counts only the same campaign against a campaign cap, and every campaign against a number cap', async () => {
      const number = nextNumber();
      const oncePerCampaign: Cap = { name: 'once a campaign', limit: 1, windowMs: 30 * 24 * hour, scope: 'campaign' };
      const twicePerDay: Cap = { name: '2 a day', limit: 2, windowMs: 24 * hour, scope: 'number' };
      const caps = [oncePerCampaign, twicePerDay];
      const reserve = (campaignId: string, offset: number) =>
        store.reserve({ reservationId: nextId(), number, campaignId, at: t0 + offset, caps });
      expect(await reserve('spring', 0)).toMatchObject({ kind: 'reserved' });
      expect(await reserve('spring', 1)).toEqual({
        kind: 'capped',
        cap: 'once a campaign',
        allowedAt: t0 + 30 * 24 * hour,
      });
      expect(await reserve('autumn', 2)).toMatchObject({ kind: 'reserved' });
      expect(await reserve('winter', 3)).toEqual({ kind: 'capped', cap: '2 a day', allowedAt: t0 + 24 * hour });
      await expect(store.reserve({ reservationId: nextId(), number, at: t0, caps })).rejects.toThrow(
        ContactStoreInputError,
      );
    });

    it('refuses a number on the DNC list whatever the caps say, and keeps that verdict for its id', async () => {
      const number = nextNumber();
      expect(await store.reserve({ reservationId: nextId(), number, at: t0, caps: [oncePerHour] })).toMatchObject({
        kind: 'reserved',
      });
      const entry = await store.dnc.add({ number, by: 'ops', reason: 'asked', source: 'opt-out', at: t0 + 1 });
      const id = nextId();
      const refused = await store.reserve({ reservationId: id, number, at: t0 + 2, caps: [oncePerHour] });
      expect(refused).toEqual({ kind: 'do_not_call', entry });
      await store.dnc.remove(number, 'ops');
      expect(await store.reserve({ reservationId: id, number, at: t0 + 3, caps: [] })).toEqual(refused);
    });

    it('stops counting a released reservation, and releases idempotently', async () => {
      const number = nextNumber();
      const id = nextId();
      expect(await store.reserve({ reservationId: id, number, at: t0, caps: [oncePerHour] })).toMatchObject({
        kind: 'reserved',
      });
      await store.release(id);
      await store.release(id);
      await store.release(nextId('never-reserved'));
      const other = nextId();
      expect(await store.reserve({ reservationId: other, number, at: t0 + 1, caps: [oncePerHour] })).toMatchObject({
        kind: 'reserved',
      });
      // Asked again, a released id is decided anew: now the other reservation holds the cap.
      expect(await store.reserve({ reservationId: id, number, at: t0 + 2, caps: [oncePerHour] })).toEqual({
        kind: 'capped',
        cap: '1 an hour',
        allowedAt: t0 + 1 + hour,
      });
    });

    it('records an outcome once, refuses another one, and refuses to release a call that happened', async () => {
      const id = nextId();
      await store.reserve({ reservationId: id, number: nextNumber(), at: t0, caps: [] });
      await store.recordOutcome(id, 'completed', t0 + 60_000);
      await store.recordOutcome(id, 'completed', t0 + 61_000);
      await expect(store.recordOutcome(id, 'failed', t0 + 62_000)).rejects.toThrow(ReservationConflictError);
      await expect(store.release(id)).rejects.toThrow(ReservationConflictError);
      await expect(store.recordOutcome(nextId('unknown'), 'completed', t0)).rejects.toThrow(UnknownReservationError);
    });

    it('keeps only a keyed hash and the masked number in the contact log, never the number', async () => {
      const location = await backend.newLocation('empty');
      const hashKey = 'a-test-key-of-at-least-32-characters!';
      const own = await openContactStore({ ...location.options, hashKey });
      const [called, listed] = [nextNumber(), nextNumber()];
      await own.dnc.add({ number: listed, by: 'ops' });
      await own.reserve({ reservationId: nextId(), number: called, at: t0, caps: [oncePerHour] });
      await own.reserve({ reservationId: nextId(), number: listed, at: t0, caps: [oncePerHour] });
      await own.close();

      const rows = await location.query<{ number_hash: string; number_masked: string; verdict: string }>(
        'SELECT * FROM contact_reservations ORDER BY verdict DESC',
      );
      const dump = JSON.stringify(rows);
      for (const number of [called, listed]) expect(dump).not.toContain(number.slice(1));
      expect(rows.map((row) => [row.verdict, row.number_masked, row.number_hash])).toEqual([
        ['reserved', `${called.slice(0, 5)}•••${called.slice(-4)}`, hmac(hashKey, called)],
        ['do_not_call', `${listed.slice(0, 5)}•••${listed.slice(-4)}`, hmac(hashKey, listed)],
      ]);
      // Nor anywhere in the database's files (the DNC list's number is, as it must be).
      const files = await location.files();
      expect(files.length).toBeGreaterThan(10);
      const holding = (text: string) => files.filter((file) => readFileSync(file).includes(text));
      expect(holding(called)).toEqual([]);
      expect(holding(listed).length).toBeGreaterThan(0);
    });

    it('refuses to open with another hash key than the contact log was hashed with', async () => {
      const location = await backend.newLocation('empty');
      const generated = await openContactStore(location.options);
      await generated.close();
      const error = await openContactStore({ ...location.options, hashKey: 'another-key-of-at-least-32-characters' })
        .then(async (opened) => opened.close())
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(HashKeyMismatchError);
      expect((error as Error).message).toContain('AGENTPHONE_CONTACT_HASH_KEY');
      const reopened = await openContactStore(location.options);
      await reopened.close();
    });
  });
});

describe('the embedded store', () => {
  it('is refused to a second open in the same process', async () => {
    const dataDir = newDir();
    const [first, second] = await Promise.allSettled([openContactStore({ dataDir }), openContactStore({ dataDir })]);
    const opened = [first, second].filter((r) => r.status === 'fulfilled');
    const refused = [first, second].filter((r) => r.status === 'rejected');
    expect(opened).toHaveLength(1);
    expect(refused.map((r) => (r as PromiseRejectedResult).reason)).toEqual([expect.any(ContactStoreLockedError)]);
    const store = (opened[0] as PromiseFulfilledResult<ContactStore>).value;
    expect(store.migrated).toEqual(migrations.map((m) => m.version));
    await store.close();
    expect(existsSync(join(dataDir, lockFileName))).toBe(false);
    await (await openContactStore({ dataDir })).close();
  }, 120_000);

  it('is refused to a second process, naming AGENTPHONE_DATABASE_URL, and taken over once its holder died', async () => {
    const dataDir = newDir();
    const store = await openContactStore({ dataDir });
    const refused = await runChild(dataDir);
    expect(refused.code).toBe(3);
    expect(refused.output).toContain('ContactStoreLockedError');
    expect(refused.output).toContain('AGENTPHONE_DATABASE_URL');
    expect(refused.output).toContain(`process ${process.pid} on ${hostname()}`);
    await store.close();

    const holder = startChild(dataDir);
    try {
      await holder.opened;
      const error = await openContactStore({ dataDir }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ContactStoreLockedError);
      expect((error as Error).message).toContain(`process ${holder.child.pid}`);
    } finally {
      holder.child.kill('SIGKILL');
      await holder.exited;
    }
    // Killed, it left its lock behind: a dead pid's lock is taken over.
    expect(JSON.parse(readFileSync(join(dataDir, lockFileName), 'utf8'))).toMatchObject({ pid: holder.child.pid });
    const after = await openContactStore({ dataDir });
    expect(JSON.parse(readFileSync(join(dataDir, lockFileName), 'utf8'))).toMatchObject({ pid: process.pid });
    await after.close();
  }, 180_000);
});

describe('the postgres store', () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('applies the migrations exactly once when two processes open a new database at once', async () => {
    const databaseUrl = await server.createDatabase();
    const stores = await Promise.all([openContactStore({ databaseUrl }), openContactStore({ databaseUrl })]);
    expect(stores.map((s) => s.migrated).sort((a, b) => b.length - a.length)).toEqual([
      migrations.map((m) => m.version),
      [],
    ]);
    // Both hash alike: the key was generated once.
    const number = nextNumber();
    const [first, second] = stores as [ContactStore, ContactStore];
    expect(await first.reserve({ reservationId: nextId(), number, at: t0, caps: [oncePerHour] })).toMatchObject({
      kind: 'reserved',
    });
    expect(await second.reserve({ reservationId: nextId(), number, at: t0, caps: [oncePerHour] })).toMatchObject({
      kind: 'capped',
    });
    await Promise.all(stores.map((s) => s.close()));
  });

  it('reconnects on the next call after PostgreSQL restarts', async () => {
    const store = await openContactStore({ databaseUrl: await server.createDatabase() });
    try {
      const number = nextNumber();
      await store.dnc.add({ number, by: 'ops', at: t0 });
      await server.restart(async () => {
        await expect(store.dnc.check(number)).rejects.toThrow(/ECONNREFUSED|connect/);
      });
      expect(await store.dnc.check(number)).toEqual({ number, by: 'ops', at: t0 });
      const verdict: Reservation = await store.reserve({ reservationId: nextId(), number, at: t0, caps: [] });
      expect(verdict.kind).toBe('do_not_call');
    } finally {
      await store.close();
    }
  }, 60_000);
});

describe('the contact store options', () => {
  it('choose PostgreSQL when AGENTPHONE_DATABASE_URL is set, else a data directory under the working directory', () => {
    expect(contactStoreOptionsFromEnv({}, '/srv/app')).toEqual({ dataDir: '/srv/app/.agentphone' });
    expect(contactStoreOptionsFromEnv({ AGENTPHONE_DATA_DIR: 'state' }, '/srv/app')).toEqual({
      dataDir: '/srv/app/state',
    });
    const databaseUrl = 'postgres://agent:secret@db:5432/agentphone';
    const hashKey = 'k'.repeat(32);
    expect(
      contactStoreOptionsFromEnv({ AGENTPHONE_DATABASE_URL: databaseUrl, AGENTPHONE_CONTACT_HASH_KEY: hashKey }),
    ).toEqual({ databaseUrl, hashKey });
  });

  it('report every problem together, never showing the URL or the key', () => {
    const error = (() => {
      try {
        contactStoreOptionsFromEnv({
          AGENTPHONE_DATABASE_URL: 'mysql://agent:secret@db/agentphone',
          AGENTPHONE_CONTACT_HASH_KEY: 'short-secret',
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ContactStoreConfigError);
    expect((error as ContactStoreConfigError).problems).toHaveLength(2);
    expect((error as Error).message).toContain('AGENTPHONE_DATABASE_URL must be a postgres://');
    expect((error as Error).message).toContain('AGENTPHONE_CONTACT_HASH_KEY must be at least 32 characters');
    expect((error as Error).message).not.toContain('secret');
  });
});

function hmac(key: string, number: string): string {
  return createHmac('sha256', key).update(number).digest('hex');
}

/** A node process that opens the embedded store in `dataDir` (from the TypeScript sources) and waits. */
function spawnStoreChild(dataDir: string): ChildProcess {
  const script = join(scratch, 'open-store.cjs');
  writeFileSync(
    script,
    `const { openContactStore } = require(${JSON.stringify(join(root, 'src/contact-store/index.ts'))});
openContactStore({ dataDir: process.argv[2] }).then(
  () => { console.log('opened'); setInterval(() => {}, 60_000); },
  (error) => { console.log(error.name + ': ' + error.message); process.exit(3); },
);`,
  );
  return spawn(process.execPath, ['--import', 'tsx', script, dataDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function runChild(dataDir: string): Promise<{ code: number | null; output: string }> {
  const child = spawnStoreChild(dataDir);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

function startChild(dataDir: string): { child: ChildProcess; opened: Promise<void>; exited: Promise<void> } {
  const child = spawnStoreChild(dataDir);
  let output = '';
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const opened = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('opened')) resolve();
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`the child exited (${code}) before opening the store:\n${output}`)));
  });
  return { child, opened, exited };
}
