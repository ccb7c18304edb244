import type { Database, Queryable } from './database';
import { lockClasses } from './database';
import {
  type BadImportLine,
  ContactStoreInputError,
  DncImportError,
  ReservationConflictError,
  UnknownReservationError,
} from './errors';
import { e164Problem, maskValue, NumberHasher, requireE164 } from './numbers';
import {
  type Cap,
  type ContactStore,
  type DncEntry,
  type DncImportResult,
  type DncImportRow,
  type DncList,
  importBatchSize,
  type Reservation,
  type ReserveInput,
  type Screening,
  screenBatchSize,
  type ScreenInput,
} from './types';

/** The store over an open, migrated database: the same SQL for PostgreSQL and PGlite. */
export function createContactStore(db: Database, hasher: NumberHasher, migrated: readonly number[]): ContactStore {
  let closed: Promise<void> | undefined;
  return {
    kind: db.kind,
    migrated,
    dnc: createDncList(db),
    reserve: (input) => reserve(db, hasher, input),
    screen: (entries, at) => screen(db, hasher, entries, at),
    recordOutcome: (reservationId, outcome, at) => recordOutcome(db, reservationId, outcome, at),
    release: (reservationId) => release(db, reservationId),
    close: () => (closed ??= db.close()),
  };
}

interface DncRow {
  number: string;
  added_by: string;
  reason: string | null;
  source: string | null;
  added_at_ms: number | string;
}

const dncColumns = 'number, added_by, reason, source, added_at_ms';

function toDncEntry(row: DncRow): DncEntry {
  return {
    number: row.number,
    by: row.added_by,
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(row.source === null ? {} : { source: row.source }),
    at: Number(row.added_at_ms),
  };
}

function createDncList(db: Database): DncList {
  return {
    async add({ number, by, reason, source, at = Date.now() }) {
      const e164 = requireE164(number);
      requireText('by', by);
      requireTime('at', at);
      return db.transaction(async (tx) => {
        const [row] = await tx.query<DncRow>(
          `INSERT INTO dnc_entries (number, added_by, reason, source, added_at_ms) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (number) DO UPDATE SET added_by = excluded.added_by, reason = excluded.reason,
             source = excluded.source, added_at_ms = excluded.added_at_ms
           RETURNING ${dncColumns}`,
          [e164, by, reason ?? null, source ?? null, at],
        );
        await logChange(tx, { at, by, action: 'add', number: e164, source, reason });
        return toDncEntry(row!);
      });
    },

    async remove(number, by) {
      const e164 = requireE164(number);
      requireText('by', by);
      return db.transaction(async (tx) => {
        const removed = await tx.query('DELETE FROM dnc_entries WHERE number = $1 RETURNING number', [e164]);
        if (removed.length > 0) await logChange(tx, { at: Date.now(), by, action: 'remove', number: e164 });
        return removed.length > 0;
      });
    },

    async check(number) {
      const e164 = requireE164(number);
      const [row] = await db.query<DncRow>(`SELECT ${dncColumns} FROM dnc_entries WHERE number = $1`, [e164]);
      return row && toDncEntry(row);
    },

    async list({ offset, limit }) {
      requireInteger('offset', offset, 0, Number.MAX_SAFE_INTEGER);
      requireInteger('limit', limit, 1, 10_000);
      return db.transaction(async (tx) => {
        const rows = await tx.query<DncRow>(
          `SELECT ${dncColumns} FROM dnc_entries ORDER BY number LIMIT $1 OFFSET $2`,
          [limit, offset],
        );
        const [count] = await tx.query<{ total: number }>('SELECT count(*)::int AS total FROM dnc_entries');
        return { entries: rows.map(toDncEntry), total: Number(count?.total ?? 0) };
      });
    },

    importRows: (rows, meta) => importRows(db, rows, meta),
  };
}

/**
 * All or nothing, in one transaction. Valid numbers go in by INSERTs of {@link importBatchSize}; from the first bad
 * line on nothing more is written, but the rest is still read, to count every bad line, and the transaction is rolled
 * back. Memory holds one batch and the first 20 bad lines, however long the file.
 */
async function importRows(
  db: Database,
  rows: AsyncIterable<DncImportRow> | Iterable<DncImportRow>,
  meta: { by: string; source: string; reason?: string; at?: number },
): Promise<DncImportResult> {
  const { by, source, reason, at = Date.now() } = meta;
  requireText('by', by);
  requireText('source', source);
  requireTime('at', at);
  return db.transaction(async (tx) => {
    const bad: BadImportLine[] = [];
    let badCount = 0;
    let lines = 0;
    let added = 0;
    let batch: string[] = [];
    const flush = async () => {
      // A number twice in one INSERT … ON CONFLICT DO UPDATE is an error ("cannot affect row a second time").
      const numbers = [...new Set(batch)];
      batch = [];
      const inserted = await tx.query<{ inserted: boolean }>(
        `INSERT INTO dnc_entries (number, added_by, reason, source, added_at_ms)
         SELECT n, $2, $3, $4, $5 FROM unnest($1::text[]) AS n
         ON CONFLICT (number) DO UPDATE SET added_by = excluded.added_by, reason = excluded.reason,
           source = excluded.source, added_at_ms = excluded.added_at_ms
         RETURNING (xmax = 0) AS inserted`,
        [numbers, by, reason ?? null, source, at],
      );
      // xmax is 0 on a row this statement inserted, and set on one it updated.
      added += inserted.filter((row) => row.inserted).length;
    };
    for await (const { number, line } of rows) {
      const problem = e164Problem(number);
      if (problem !== undefined) {
        badCount++;
        if (bad.length < DncImportError.shownLimit) bad.push({ line, masked: maskValue(number), problem });
        continue;
      }
      lines++;
      if (badCount > 0) continue;
      batch.push(number);
      if (batch.length >= importBatchSize) await flush();
    }
    if (badCount > 0) throw new DncImportError(bad, badCount);
    if (batch.length > 0) await flush();
    await logChange(tx, { at, by, action: 'import', source, reason, lineCount: lines });
    return { added, updated: lines - added };
  });
}

async function logChange(
  tx: Queryable,
  change: {
    at: number;
    by: string;
    action: 'add' | 'remove' | 'import';
    number?: string;
    source?: string | undefined;
    reason?: string | undefined;
    lineCount?: number;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO dnc_changes (at_ms, actor, action, number, source, reason, line_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      change.at,
      change.by,
      change.action,
      change.number ?? null,
      change.source ?? null,
      change.reason ?? null,
      change.lineCount ?? null,
    ],
  );
}

interface ReservationRow {
  reservation_id: string;
  number_hash: string;
  campaign_id: string | null;
  verdict: 'reserved' | 'do_not_call' | 'capped';
  at_ms: number | string;
  cap_name: string | null;
  allowed_at_ms: number | string | null;
  dnc_added_by: string | null;
  dnc_reason: string | null;
  dnc_source: string | null;
  dnc_added_at_ms: number | string | null;
  released_at_ms: number | string | null;
  outcome: string | null;
}

type Verdict =
  { kind: 'reserved' } | { kind: 'do_not_call'; entry: DncEntry } | { kind: 'capped'; cap: string; allowedAt: number };

async function reserve(db: Database, hasher: NumberHasher, input: ReserveInput): Promise<Reservation> {
  const { reservationId, campaignId, at, caps } = input;
  const number = requireE164(input.number);
  requireText('reservationId', reservationId);
  if (campaignId !== undefined) requireText('campaignId', campaignId);
  requireTime('at', at);
  requireCaps(caps, campaignId);
  const hash = hasher.hash(number);

  return db.transaction(async (tx) => {
    // First statement of the transaction: every reserve of this number waits here for the one before it to commit,
    // and (read committed) each statement after it sees what that one wrote.
    await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [lockClasses.number, NumberHasher.lockKey(hash)]);

    const earlier = await findReservation(tx, reservationId);
    if (earlier && earlier.released_at_ms === null) return answerAgain(earlier, number, hash, campaignId);

    const verdict = await decide(tx, number, hash, input);
    const dnc = verdict.kind === 'do_not_call' ? verdict.entry : undefined;
    const capped = verdict.kind === 'capped' ? verdict : undefined;
    // A released reservation of the same id is decided anew in its row. Any other row under this id was written by
    // a reserve of another number, which took another lock: the WHERE keeps it, and it is answered below.
    const written = await tx.query<ReservationRow>(
      `INSERT INTO contact_reservations (reservation_id, number_hash, number_masked, campaign_id, verdict, at_ms,
         cap_name, allowed_at_ms, dnc_added_by, dnc_reason, dnc_source, dnc_added_at_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
       ON CONFLICT (reservation_id) DO UPDATE SET verdict = excluded.verdict, at_ms = excluded.at_ms,
         cap_name = excluded.cap_name, allowed_at_ms = excluded.allowed_at_ms, dnc_added_by = excluded.dnc_added_by,
         dnc_reason = excluded.dnc_reason, dnc_source = excluded.dnc_source,
         dnc_added_at_ms = excluded.dnc_added_at_ms, released_at_ms = NULL
       WHERE contact_reservations.released_at_ms IS NOT NULL
         AND contact_reservations.number_hash = excluded.number_hash
         AND contact_reservations.campaign_id IS NOT DISTINCT FROM excluded.campaign_id
       RETURNING reservation_id`,
      [
        reservationId,
        hash,
        NumberHasher.mask(number),
        campaignId ?? null,
        verdict.kind,
        at,
        capped?.cap ?? null,
        capped?.allowedAt ?? null,
        dnc?.by ?? null,
        dnc?.reason ?? null,
        dnc?.source ?? null,
        dnc?.at ?? null,
      ],
    );
    if (written.length === 0) {
      const other = await findReservation(tx, reservationId);
      return answerAgain(other!, number, hash, campaignId);
    }
    return verdict.kind === 'reserved' ? { kind: 'reserved', reservationId, at } : verdict;
  });
}

function findReservation(tx: Queryable, reservationId: string): Promise<ReservationRow | undefined> {
  return tx
    .query<ReservationRow>('SELECT * FROM contact_reservations WHERE reservation_id = $1', [reservationId])
    .then((rows) => rows[0]);
}

/** The first verdict of `row`, for a caller asking again: it must ask for the same number and campaign. */
function answerAgain(row: ReservationRow, number: string, hash: string, campaignId: string | undefined): Reservation {
  if (row.number_hash !== hash || row.campaign_id !== (campaignId ?? null)) {
    throw new ReservationConflictError(
      row.reservation_id,
      `Reservation ${JSON.stringify(row.reservation_id)} was made for another number or campaign than ` +
        `${maskValue(number)}${campaignId === undefined ? '' : ` in campaign ${JSON.stringify(campaignId)}`}: ` +
        'a reservation id names one contact attempt (use the workflow id of the call).',
    );
  }
  return toReservation(row, number);
}

function toReservation(row: ReservationRow, number: string): Reservation {
  switch (row.verdict) {
    case 'reserved':
      return { kind: 'reserved', reservationId: row.reservation_id, at: Number(row.at_ms) };
    case 'capped':
      return { kind: 'capped', cap: row.cap_name ?? '', allowedAt: Number(row.allowed_at_ms) };
    case 'do_not_call':
      return {
        kind: 'do_not_call',
        entry: toDncEntry({
          number,
          added_by: row.dnc_added_by ?? '',
          reason: row.dnc_reason,
          source: row.dnc_source,
          added_at_ms: row.dnc_added_at_ms ?? 0,
        }),
      };
  }
}

/** DNC first (whatever the caps say), then every cap: the one that frees last is named. */
async function decide(tx: Queryable, number: string, hash: string, input: ReserveInput): Promise<Verdict> {
  const [listed] = await tx.query<DncRow>(`SELECT ${dncColumns} FROM dnc_entries WHERE number = $1`, [number]);
  if (listed) return { kind: 'do_not_call', entry: toDncEntry(listed) };

  let capped: { kind: 'capped'; cap: string; allowedAt: number } | undefined;
  for (const cap of input.caps) {
    // The limit-th most recent counted contact in the window, if there are that many: one more would exceed the cap
    // until it leaves the window, and contacts older than it will have left before.
    const [blocking] = await tx.query<{ at_ms: number | string }>(
      `SELECT at_ms FROM contact_reservations
       WHERE number_hash = $1 AND verdict = 'reserved' AND released_at_ms IS NULL AND at_ms > $2
         AND ($3::text IS NULL OR campaign_id = $3)
       ORDER BY at_ms DESC OFFSET $4 LIMIT 1`,
      [hash, input.at - cap.windowMs, cap.scope === 'campaign' ? input.campaignId : null, cap.limit - 1],
    );
    if (!blocking) continue;
    const allowedAt = Number(blocking.at_ms) + cap.windowMs;
    if (!capped || allowedAt > capped.allowedAt) capped = { kind: 'capped', cap: cap.name, allowedAt };
  }
  return capped ?? { kind: 'reserved' };
}

async function screen(
  db: Database,
  hasher: NumberHasher,
  entries: readonly ScreenInput[],
  at: number,
): Promise<Screening[]> {
  requireTime('at', at);
  const verdicts: Screening[] = [];
  for (let first = 0; first < entries.length; first += screenBatchSize) {
    const batch = entries.slice(first, first + screenBatchSize).map((entry) => {
      const number = requireE164(entry.number);
      requireCaps(entry.caps, undefined);
      return { number, hash: hasher.hash(number), caps: entry.caps };
    });
    const longest = Math.max(0, ...batch.flatMap((e) => e.caps.map((cap) => cap.windowMs)));
    const [listed, contacts] = await Promise.all([
      db.query<{ number: string }>('SELECT number FROM dnc_entries WHERE number = ANY($1::text[])', [
        batch.map((e) => e.number),
      ]),
      longest === 0
        ? []
        : db.query<{ number_hash: string; at_ms: number | string }>(
            `SELECT number_hash, at_ms FROM contact_reservations
             WHERE number_hash = ANY($1::text[]) AND verdict = 'reserved' AND released_at_ms IS NULL AND at_ms > $2`,
            [batch.map((e) => e.hash), at - longest],
          ),
    ]);
    const onList = new Set(listed.map((row) => row.number));
    const byHash = new Map<string, number[]>();
    for (const row of contacts) {
      const times = byHash.get(row.number_hash) ?? [];
      times.push(Number(row.at_ms));
      byHash.set(row.number_hash, times);
    }
    for (const { number, hash, caps } of batch) {
      if (onList.has(number)) {
        verdicts.push({ kind: 'do_not_call' });
        continue;
      }
      // The same rule as decide(): the limit-th most recent contact in a cap's window blocks one more until it leaves.
      const times = (byHash.get(hash) ?? []).sort((a, b) => b - a);
      let capped: Screening | undefined;
      for (const cap of caps) {
        const blocking = times.filter((t) => t > at - cap.windowMs)[cap.limit - 1];
        if (blocking === undefined) continue;
        const allowedAt = blocking + cap.windowMs;
        if (capped?.kind !== 'capped' || allowedAt > capped.allowedAt)
          capped = { kind: 'capped', cap: cap.name, allowedAt };
      }
      verdicts.push(capped ?? { kind: 'clear' });
    }
  }
  return verdicts;
}

async function recordOutcome(db: Database, reservationId: string, outcome: string, at: number): Promise<void> {
  requireText('reservationId', reservationId);
  requireText('outcome', outcome);
  requireTime('at', at);
  await db.transaction(async (tx) => {
    const row = await findReservation(tx, reservationId);
    if (!row || row.verdict !== 'reserved') throw new UnknownReservationError(reservationId);
    if (row.outcome === outcome) return;
    if (row.outcome !== null) {
      throw new ReservationConflictError(
        reservationId,
        `Reservation ${JSON.stringify(reservationId)} already ended with outcome ${JSON.stringify(row.outcome)}, ` +
          `not ${JSON.stringify(outcome)}: an outcome is recorded once.`,
      );
    }
    // A released reservation whose call turns out to have happened counts again: the policy errs on the safe side.
    await tx.query(
      `UPDATE contact_reservations SET outcome = $2, outcome_at_ms = $3, released_at_ms = NULL
       WHERE reservation_id = $1 AND outcome IS NULL`,
      [reservationId, outcome, at],
    );
  });
}

async function release(db: Database, reservationId: string): Promise<void> {
  requireText('reservationId', reservationId);
  await db.transaction(async (tx) => {
    const row = await findReservation(tx, reservationId);
    if (!row || row.verdict !== 'reserved' || row.released_at_ms !== null) return;
    if (row.outcome !== null) {
      throw new ReservationConflictError(
        reservationId,
        `Reservation ${JSON.stringify(reservationId)} has an outcome (${JSON.stringify(row.outcome)}): the call ` +
          'happened, so it keeps counting and cannot be released.',
      );
    }
    await tx.query('UPDATE contact_reservations SET released_at_ms = $2 WHERE reservation_id = $1', [
      reservationId,
      Date.now(),
    ]);
  });
}

function requireText(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 500) {
    throw new ContactStoreInputError(`${name} must be text of 1 to 500 characters.`);
  }
}

function requireTime(name: string, value: unknown): void {
  requireInteger(name, value, 0, 8_640_000_000_000_000);
}

function requireInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ContactStoreInputError(`${name} must be an integer from ${min} to ${max}, not ${String(value)}.`);
  }
}

function requireCaps(caps: readonly Cap[], campaignId: string | undefined): void {
  if (!Array.isArray(caps)) throw new ContactStoreInputError('caps must be an array (empty for none).');
  for (const cap of caps) {
    requireText('A cap name', cap.name);
    requireInteger(`Cap ${JSON.stringify(cap.name)}: limit`, cap.limit, 1, 1_000_000);
    requireInteger(`Cap ${JSON.stringify(cap.name)}: windowMs`, cap.windowMs, 1, 100 * 365 * 86_400_000);
    if (cap.scope !== 'number' && cap.scope !== 'campaign') {
      throw new ContactStoreInputError(`Cap ${JSON.stringify(cap.name)}: scope must be "number" or "campaign".`);
    }
    if (cap.scope === 'campaign' && campaignId === undefined) {
      throw new ContactStoreInputError(
        `Cap ${JSON.stringify(cap.name)} counts per campaign, and the reservation names no campaignId: pass one, ` +
          'or leave campaign caps out for calls outside a campaign.',
      );
    }
  }
}
