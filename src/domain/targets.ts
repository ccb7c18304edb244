import { createHash, type Hash } from 'node:crypto';
import { type BigIntStats, constants, type Stats } from 'node:fs';
import { type FileHandle, open, realpath, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Options as CsvOptions, parse as parseCsvStream } from 'csv-parse';
import { parse as parseCsvSync } from 'csv-parse/sync';
import { checkCallRequest } from '../guardrails';
import { stripControls } from '../shared/redact';
import type { RefusalReason, TargetRefusal, TargetsInspection, ValidTarget } from '../shared/targets';
import { zoneOfNumber } from '../policy/zone-of-number';

/** A file-level problem: nothing in it is dialed. */
export class TargetsFileError extends Error {
  override name = 'TargetsFileError';

  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
  }
}

const csvColumns = {
  toPhoneNumber: ['to_phone_number', 'phone', 'phone_number'],
  objective: ['objective'],
  businessName: ['business_name'],
  website: ['website'],
  timezone: ['timezone'],
  id: ['id'],
} as const;

/**
 * The largest targets file read, in bytes (50 MiB): room for 100,000 rows of a few hundred characters. A bigger
 * file, or one that keeps growing while it is read, is refused before it can fill a worker's memory.
 */
export const maxTargetsFileBytes = 50 * 1024 * 1024;

const maxRows = 100_000;
const maxInlineTargets = 1_000;
/** Bytes in one row (csv-parse counts its buffer), quoted line breaks included. */
const maxRecordBytes = 64_000;
const chunkBytes = 64 * 1024;
/** Kernel and device files: sizes of 0 with endless or secret content (/dev/zero, /proc/self/environ). */
const refusedRoots = ['/proc', '/sys', '/dev'];

type Field = keyof typeof csvColumns;
const fieldOfColumn = new Map<string, Field>(
  Object.entries(csvColumns).flatMap(([field, names]) => names.map((name) => [name, field as Field] as const)),
);

interface ReadTargetsOptions {
  /** The sha256 the file had when it was approved: if it reads otherwise now, it is refused as changed. */
  sourceHash?: string;
}

/** A targets file read and validated: its sha256, its valid targets, its refusals and how many rows it has. */
interface TargetsRead {
  hash: string;
  valid: ValidTarget[];
  refusals: TargetRefusal[];
  rows: number;
}

/**
 * Reads and validates a CSV file of targets, streaming it (memory stays bounded) and hashing what it reads. Only a
 * regular file of at most {@link maxTargetsFileBytes} is read: FIFOs, devices, sockets, directories and anything under
 * /proc, /sys or /dev are refused at once. Throws {@link TargetsFileError} when the file itself is unusable; its
 * message names the path or the line, never the file's content.
 */
export async function readTargetsCsv(path: string, options: ReadTargetsOptions = {}): Promise<TargetsRead> {
  const { hash, valid, refusals, rows } = await readTargetsFile(path, options);
  return { hash, valid, refusals, rows };
}

/** {@link readTargetsCsv}, with the identity of the file it read. */
async function readTargetsFile(
  path: string,
  { sourceHash }: ReadTargetsOptions = {},
): Promise<TargetsRead & { identity: FileIdentity }> {
  const shown = shownPath(path);
  const { file, identity } = await openTargetsFile(path, shown);
  try {
    const hash = createHash('sha256');
    const readOne = chunkReader(file, shown, hash);
    // One read at a time, in order, even while the parser's stream winds down after an error: the hash needs them so.
    let reads: Promise<unknown> = Promise.resolve();
    const nextChunk = (): Promise<Buffer | undefined> => {
      const next = reads.then(readOne);
      reads = next.catch(() => undefined);
      return next;
    };
    let rows: SourceRow[];
    try {
      rows = await parseChunks(nextChunk);
    } catch (error) {
      if (!(error instanceof TargetsFileError) || sourceHash === undefined) throw error;
      // The approved file parsed: one that no longer does has most likely changed. Say so when its hash proves it.
      while (await nextChunk());
      if (hash.digest('hex') !== sourceHash) throw changed(shown);
      throw error;
    }
    const digest = hash.digest('hex');
    if (sourceHash !== undefined && digest !== sourceHash) throw changed(shown);
    return { hash: digest, ...validateTargets(rows), identity };
  } finally {
    await file.close();
  }
}

/**
 * Proves by its hash alone, without parsing it, that the file at `path` still holds the bytes of `sourceHash`. Fails
 * as {@link readTargetsCsv} does with that hash: the same refusals of what the path is, and "changed" for any other
 * bytes (a file that grew past the limit included).
 */
async function verifyTargetsFile(path: string, sourceHash: string): Promise<FileIdentity> {
  const shown = shownPath(path);
  const { file, identity } = await openTargetsFile(path, shown);
  try {
    const hash = createHash('sha256');
    const readOne = chunkReader(file, shown, hash);
    try {
      while (await readOne());
    } catch (error) {
      if (error instanceof TargetsFileError) throw changed(shown);
      throw error;
    }
    if (hash.digest('hex') !== sourceHash) throw changed(shown);
    return identity;
  } finally {
    await file.close();
  }
}

/**
 * Reads `file` from where it is, a chunk at a time, into `hash`. At most one byte past the limit is read: enough to
 * know the file is too big, whatever its size said. A chunk is valid until the next read.
 */
function chunkReader(file: FileHandle, shown: string, hash: Hash): () => Promise<Buffer | undefined> {
  const buffer = Buffer.allocUnsafe(chunkBytes);
  let read = 0;
  return async () => {
    const wanted = Math.min(buffer.length, maxTargetsFileBytes + 1 - read);
    const { bytesRead } = await file.read(buffer, 0, wanted, null);
    if (bytesRead === 0) return undefined;
    read += bytesRead;
    if (read > maxTargetsFileBytes) throw tooLarge(shown);
    const chunk = buffer.subarray(0, bytesRead);
    hash.update(chunk);
    return chunk;
  };
}

/**
 * Opens first and checks the open descriptor (no race between a check and the open). O_NONBLOCK keeps the open of
 * a FIFO from waiting for a writer; it changes nothing for a regular file.
 */
async function openTargetsFile(path: string, shown: string): Promise<{ file: FileHandle; identity: FileIdentity }> {
  const absolute = resolve(path);
  refuseKernelPath(shown, absolute);
  let real: string;
  try {
    real = await realpath(absolute);
  } catch (error) {
    throw cannotOpen(shown, error);
  }
  // A link into /dev or /proc is refused before it is opened: opening some devices has effects of its own.
  if (real !== absolute) refuseKernelPath(shown, real);
  let file: FileHandle;
  try {
    file = await open(absolute, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0));
  } catch (error) {
    // open() answers ENXIO for a socket: name what the path is, for the message only.
    const kind = await stat(absolute).then(
      (s) => (s.isFile() ? undefined : kindOf(s)),
      () => undefined,
    );
    if (kind) throw new TargetsFileError(`${shown} is not a regular file (${kind}): pass a CSV file.`);
    throw cannotOpen(shown, error);
  }
  try {
    const opened = await file.stat({ bigint: true });
    if (!opened.isFile()) {
      throw new TargetsFileError(`${shown} is not a regular file (${kindOf(opened)}): pass a CSV file.`);
    }
    if (Number(opened.size) > maxTargetsFileBytes) throw tooLarge(shown, Number(opened.size));
    return { file, identity: identityOf(opened) };
  } catch (error) {
    await file.close();
    throw error;
  }
}

/** What tells a file's bytes apart without reading them: its device, inode, size and times (in ns). */
interface FileIdentity {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

function identityOf({ dev, ino, size, mtimeNs, ctimeNs }: BigIntStats): FileIdentity {
  return { dev, ino, size, mtimeNs, ctimeNs };
}

function sameIdentity(a: FileIdentity | undefined, b: FileIdentity): boolean {
  return (
    a !== undefined &&
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs
  );
}

/** The identity of what `path` leads to now, or undefined if it cannot be read (the full check then says why). */
async function identityAt(path: string): Promise<FileIdentity | undefined> {
  return stat(resolve(path), { bigint: true }).then(identityOf, () => undefined);
}

/**
 * A file's times are only as fine as its file system keeps them: a clock tick on ext4 or tmpfs, 2 s on FAT. Until its
 * last change is older than its read by this much, a write in the same tick could have left its identity as it was.
 */
const timestampGranularityMs = 2_000;

interface CachedTargets {
  valid: ValidTarget[];
  /** The path the bytes were last proven at, and the identity they had there. */
  path: string;
  identity: FileIdentity;
  /** Whether the identity alone proves the bytes: the file had not changed for a while when it was read. */
  settled: boolean;
}

/**
 * The valid targets of the files one worker pages through, by the sha256 the campaign approved: a list is parsed and
 * validated once per worker, not at every page (500 times for 100,000 rows, seconds each). A 100,000-row entry keeps
 * about 28 MiB of heap (290 bytes a target, measured by bench/targets.ts), so only the `maxFiles` used last are kept.
 *
 * A page must still prove that it comes from the approved bytes. The first read on this worker is the full read with
 * the approved hash that every page used to make. After it, the file's identity (device, inode, size, mtime, ctime)
 * stands for its bytes: a stat instead of a pass. Every write changes ctime, which user code cannot set back, but only
 * as finely as the file system keeps time; so an identity taken less than 2 s after the file's last change proves
 * nothing yet (git's "racily clean" files), and neither does one that differs (a copy, a touch, a chmod). Then the
 * page hashes the file again, a read without a parse, and bytes that no longer hash to the approved sha256 fail
 * exactly as the full read fails. This trusts the file's times to come from this machine's clock: on a network file
 * system whose server runs more than 2 s behind, a same-size rewrite within one of its ticks could pass.
 */
export class ValidatedTargetsCache {
  private readonly entries = new Map<string, CachedTargets>();

  /** @param maxFiles how many files' targets are kept, the least recently used dropped first. */
  constructor(private readonly maxFiles = 2) {}

  /** Reads and validates the file as {@link readTargetsCsv} does, and keeps its valid targets for its pages. */
  async inspect(path: string): Promise<TargetsRead> {
    const readAt = Date.now();
    const { identity, ...read } = await readTargetsFile(path);
    this.keep(read.hash, { valid: read.valid, path, identity, settled: settled(identity, readAt) });
    return read;
  }

  /**
   * The valid targets of the file at `path`, which must hold the bytes of `sourceHash`: throws the TargetsFileError
   * that {@link readTargetsCsv} throws with that hash.
   */
  async approved(path: string, sourceHash: string): Promise<readonly ValidTarget[]> {
    const entry = this.entries.get(sourceHash);
    const readAt = Date.now();
    if (entry === undefined) {
      const { identity, valid } = await readTargetsFile(path, { sourceHash });
      this.keep(sourceHash, { valid, path, identity, settled: settled(identity, readAt) });
      return valid;
    }
    this.keep(sourceHash, entry);
    if (entry.settled && entry.path === path && sameIdentity(await identityAt(path), entry.identity))
      return entry.valid;
    try {
      entry.identity = await verifyTargetsFile(path, sourceHash);
    } catch (error) {
      this.entries.delete(sourceHash);
      throw error;
    }
    entry.path = path;
    entry.settled = settled(entry.identity, readAt);
    return entry.valid;
  }

  /** Makes `hash` the most recently used entry, and drops the oldest beyond `maxFiles`. */
  private keep(hash: string, entry: CachedTargets): void {
    this.entries.delete(hash);
    this.entries.set(hash, entry);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxFiles) break;
      this.entries.delete(oldest);
    }
  }
}

/** Whether the file had not changed for longer than the timestamp granularity when its read began at `readAt`. */
function settled({ mtimeNs, ctimeNs }: FileIdentity, readAt: number): boolean {
  const before = BigInt(readAt - timestampGranularityMs) * 1_000_000n;
  return mtimeNs < before && ctimeNs < before;
}

function refuseKernelPath(shown: string, absolute: string): void {
  const root = refusedRoots.find((r) => absolute === r || absolute.startsWith(`${r}/`));
  if (root === undefined) return;
  const link = shown === absolute ? '' : ` (it leads to ${shownPath(absolute)})`;
  throw new TargetsFileError(
    `${shown}${link} is under ${root}: pass a regular CSV file (nothing under /proc, /sys or /dev is read).`,
  );
}

function kindOf(stat: Stats | BigIntStats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  return 'not a file';
}

function cannotOpen(shown: string, error: unknown): TargetsFileError {
  const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
  const why: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    ENOTDIR: 'a part of the path is not a folder',
    ELOOP: 'too many symbolic links',
    ENXIO: 'not a regular file: pass a CSV file',
  };
  return new TargetsFileError(`cannot read ${shown}: ${code} (${why[code] ?? 'it cannot be opened'}).`);
}

function tooLarge(shown: string, size?: number): TargetsFileError {
  const limit = `${maxTargetsFileBytes / 1024 / 1024} MB`;
  const actual = size === undefined ? `more than ${limit}` : `${size} bytes`;
  return new TargetsFileError(
    `${shown} has ${actual}: a targets file may have at most ${limit} (${maxTargetsFileBytes} bytes) and ` +
      `${maxRows} rows. Split the list into several campaigns.`,
  );
}

function changed(shown: string): TargetsFileError {
  return new TargetsFileError(
    `${shown} changed after it was validated and approved. Start a new campaign with the new file.`,
  );
}

/** The path as a message shows it: no control characters, bounded. */
function shownPath(path: string): string {
  const clean = stripControls(path);
  return clean.length > 300 ? `${clean.slice(0, 299)}…` : clean;
}

interface SourceRow {
  line?: number;
  index?: number;
  fields: Record<string, unknown>;
}

interface ParsedRecord {
  record: Partial<Record<Field, string>>;
  info: { lines: number };
  raw: string;
}

/** Parses CSV bytes: UTF-8 (a BOM is fine), a header row naming the columns, one target a row. */
export function parseTargetsCsv(bytes: Uint8Array): SourceRow[] {
  if (bytes.length > maxTargetsFileBytes) throw tooLarge('the file', bytes.length);
  const text = new Utf8Text();
  const collector = new RowCollector();
  const decoded = text.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)) + text.end();
  try {
    for (const record of parseCsvSync(decoded, csvOptions(collector)) as unknown as ParsedRecord[])
      collector.add(record);
  } catch (error) {
    throw csvFileError(error);
  }
  return collector.finish();
}

/** The streaming twin of {@link parseTargetsCsv}: reads chunks from `next` until it returns undefined. */
async function parseChunks(next: () => Promise<Buffer | undefined>): Promise<SourceRow[]> {
  const text = new Utf8Text();
  const collector = new RowCollector();
  async function* decoded() {
    for (let chunk = await next(); chunk; chunk = await next()) {
      const part = text.push(chunk);
      if (part) yield part;
    }
    const last = text.end();
    if (last) yield last;
  }
  try {
    await pipeline(
      Readable.from(decoded()),
      parseCsvStream(csvOptions(collector)),
      async (records: AsyncIterable<ParsedRecord>) => {
        for await (const record of records) collector.add(record);
      },
    );
  } catch (error) {
    throw csvFileError(error);
  }
  return collector.finish();
}

function csvOptions(collector: RowCollector): CsvOptions {
  return {
    columns: collector.header,
    bom: true,
    skip_empty_lines: true,
    trim: true,
    info: true,
    raw: true,
    max_record_size: maxRecordBytes,
  };
}

/** Checks the header and turns records into rows, up to {@link maxRows}: the next one stops the read. */
class RowCollector {
  private readonly rows: SourceRow[] = [];
  private headerSeen = false;

  /** csv-parse's `columns` option: each header cell to the field it fills, or false (a column nobody reads). */
  readonly header = (cells: string[]): (Field | false)[] => {
    this.headerSeen = true;
    const seen = new Map<Field, { name: string; column: number }>();
    const fields = cells.map((cell, i) => {
      const name = cell.trim().toLowerCase();
      const field = fieldOfColumn.get(name);
      if (field === undefined) return false;
      const first = seen.get(field);
      if (first) {
        // Both names are recognised column names, so the message may show them.
        throw new TargetsFileError(
          `the header has two columns for ${csvColumns[field][0]}: ${first.name} (column ${first.column}) and ` +
            `${name} (column ${i + 1}). Keep one of them.`,
          1,
        );
      }
      seen.set(field, { name, column: i + 1 });
      return field;
    });
    const missing = (['toPhoneNumber', 'objective'] as const).filter((f) => !seen.has(f));
    if (missing.length) throw lacks(missing);
    return fields;
  };

  add({ record, info, raw }: ParsedRecord): void {
    if (this.rows.length === maxRows) {
      throw new TargetsFileError(`more than ${maxRows} rows: at most ${maxRows} per campaign.`, info.lines);
    }
    const optional = (value: string | undefined) => (value === '' ? undefined : value);
    this.rows.push({
      line: firstLine(info.lines, raw),
      fields: {
        toPhoneNumber: record.toPhoneNumber,
        objective: record.objective,
        businessName: optional(record.businessName),
        website: optional(record.website),
        timezone: optional(record.timezone),
        id: optional(record.id),
      },
    });
  }

  finish(): SourceRow[] {
    if (!this.headerSeen) throw lacks(['toPhoneNumber', 'objective']);
    return this.rows;
  }
}

function lacks(fields: Field[]): TargetsFileError {
  return new TargetsFileError(`the header lacks the column(s) ${fields.map((f) => csvColumns[f][0]).join(', ')}.`, 1);
}

/**
 * csv-parse's errors quote the field they stopped at (and keep the record), which can be anything the file holds: a
 * secret, an escape sequence. Only the line, the column and the kind of problem go into the message.
 */
function csvFileError(error: unknown): unknown {
  if (error instanceof TargetsFileError) return error;
  const e = error as { code?: unknown; lines?: unknown; index?: unknown; raw?: unknown; message?: unknown };
  if (typeof e?.code !== 'string' || !/^(CSV_|INVALID_)/.test(e.code)) return error;
  const lines = typeof e.lines === 'number' ? e.lines : undefined;
  const start = lines !== undefined && typeof e.raw === 'string' ? firstLine(lines, e.raw) : lines;
  // `index` counts the fields of the record before the one at fault.
  const field = typeof e.index === 'number' ? `the field in column ${e.index + 1}` : 'a field';
  switch (e.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return new TargetsFileError(`not valid CSV: the quote that opens ${field} is never closed.`, start);
    case 'INVALID_OPENING_QUOTE':
      return new TargetsFileError(
        `not valid CSV: a quote inside ${field}, which does not start with one. Quote the whole field and double ` +
          'the quotes inside it ("").',
        lines,
      );
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return new TargetsFileError(`not valid CSV: text after the closing quote of ${field}.`, lines);
    case 'CSV_MAX_RECORD_SIZE':
      return new TargetsFileError(`not valid CSV: a row longer than ${maxRecordBytes} bytes.`, start);
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
    case 'CSV_RECORD_INCONSISTENT_COLUMNS': {
      // The message says "… 2, got 3 on line 3": numbers only.
      const [, expected, got] = /(\d+), got (\d+)/.exec(String(e.message)) ?? [];
      const counts =
        expected && got ? `${got} fields, but the header has ${expected} columns` : 'a row does not match the header';
      return new TargetsFileError(`not valid CSV: ${counts}.`, start);
    }
    default:
      return new TargetsFileError(`not valid CSV (${e.code}).`, lines);
  }
}

/** Inline targets (the workflow argument), validated like CSV rows. */
export function inlineRows(targets: unknown): SourceRow[] {
  if (!Array.isArray(targets)) throw new TargetsFileError('targets must be an array.');
  if (targets.length > maxInlineTargets) {
    throw new TargetsFileError(
      `${targets.length} inline targets: pass more than ${maxInlineTargets} as targetsCsvPath.`,
    );
  }
  return targets.map((t, index) => ({
    index,
    fields: t && typeof t === 'object' ? (t as Record<string, unknown>) : {},
  }));
}

/** Every row through the single-call guard rails, plus timezone, id and duplicate checks. */
export function validateTargets(rows: SourceRow[]): { valid: ValidTarget[]; refusals: TargetRefusal[]; rows: number } {
  const valid: ValidTarget[] = [];
  const refusals: TargetRefusal[] = [];
  const seenNumbers = new Map<string, string>();
  const seenIds = new Set<string>();
  for (const { line, index, fields } of rows) {
    const where = line === undefined ? `item ${index}` : `line ${line}`;
    const position = line === undefined ? { index } : { line };
    const id = typeof fields.id === 'string' || typeof fields.id === 'number' ? String(fields.id).trim() : undefined;
    const refuse = (reason: RefusalReason, message: string) =>
      refusals.push({ ...position, ...(id ? { id } : {}), reason, message });

    const verdict = checkCallRequest(fields);
    if (!verdict.ok) {
      refuse(verdict.type, verdict.message);
      continue;
    }
    const timezone = fields.timezone;
    if (timezone !== undefined && (typeof timezone !== 'string' || !isTimeZone(timezone))) {
      refuse(
        'InvalidTimezone',
        `timezone must be an IANA zone such as America/New_York: got ${JSON.stringify(timezone).slice(0, 40)}.`,
      );
      continue;
    }
    if (id !== undefined && !/^[A-Za-z0-9._:-]{1,64}$/.test(id)) {
      refuse('InvalidId', 'id must be 1–64 letters, digits or . _ : - (it names the call workflow).');
      continue;
    }
    if (id !== undefined && seenIds.has(id)) {
      refuse('InvalidId', `id ${id} is used by an earlier target.`);
      continue;
    }
    const firstSeen = seenNumbers.get(verdict.request.toPhoneNumber);
    if (firstSeen) {
      refuse('Duplicate', `same number as ${firstSeen}: called once only.`);
      continue;
    }
    seenNumbers.set(verdict.request.toPhoneNumber, where);
    if (id !== undefined) seenIds.add(id);
    valid.push({
      index: valid.length,
      key: id !== undefined ? `t-${id}` : line !== undefined ? `line-${line}` : `item-${index}`,
      ...(line === undefined ? {} : { line }),
      target: { ...verdict.request, ...zoneOf(verdict.request.toPhoneNumber, timezone), ...(id ? { id } : {}) },
    });
  }
  return { valid, refusals, rows: rows.length };
}

/**
 * The target's zone for its calling window: the row's own, else the one its number's prefix names (libphonenumber's
 * map, src/policy). A prefix that spans several zones names none: the campaign's defaultTimezone applies, or the
 * target is held back, never dialed blind. A zone from a prefix is a presumption (numbers move), which is why a row's
 * timezone always wins.
 */
function zoneOf(toPhoneNumber: string, timezone: unknown): { timezone?: string } {
  if (typeof timezone === 'string') return { timezone };
  const derived = zoneOfNumber(toPhoneNumber);
  return derived.kind === 'known' && isTimeZone(derived.zone) ? { timezone: derived.zone } : {};
}

export function summarize(
  hash: string,
  rows: number,
  valid: number,
  refusals: TargetRefusal[],
  keep = 100,
): TargetsInspection {
  const refusedByReason: Partial<Record<RefusalReason, number>> = {};
  for (const r of refusals) refusedByReason[r.reason] = (refusedByReason[r.reason] ?? 0) + 1;
  return {
    sourceHash: hash,
    rows,
    valid,
    refused: refusals.length,
    refusedByReason,
    refusals: refusals.slice(0, keep),
  };
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** csv-parse counts the line a record ends on; a quoted field may span lines, and people look for the first. */
function firstLine(lastLine: number, raw: string): number {
  const record = raw.replace(/^\n+/, '').replace(/\n$/, '');
  return lastLine - (record.match(/\n/g)?.length ?? 0);
}

/**
 * UTF-8 bytes in, text out, a chunk at a time: an invalid byte is refused with the line it is on. The text has one
 * kind of line end, so that csv-parse counts lines as an editor does (it counts a quoted CRLF twice).
 */
class Utf8Text {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  /** The start of a character that the next chunk completes (at most 3 bytes). */
  private carry: Buffer = Buffer.alloc(0);
  /** The line the next byte is on. */
  private line = 1;
  private afterCR = false;
  /** A CR that ended the last text: sent once it is known whether an LF follows. */
  private heldCR = false;

  push(chunk: Buffer): string {
    const bytes = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const cut = completeLength(bytes);
    this.carry = Buffer.from(bytes.subarray(cut));
    const unit = bytes.subarray(0, cut);
    let text: string;
    try {
      text = this.decoder.decode(unit);
    } catch {
      throw notUtf8(this.line + breaksBeforeInvalid(unit, this.afterCR));
    }
    this.line += lineBreaks(unit, this.afterCR);
    if (unit.length) this.afterCR = unit[unit.length - 1] === 0x0d;
    if (this.heldCR) text = `\r${text}`;
    this.heldCR = text.endsWith('\r');
    return (this.heldCR ? text.slice(0, -1) : text).replace(/\r\n?/g, '\n');
  }

  end(): string {
    if (this.carry.length) throw notUtf8(this.line);
    const rest = this.heldCR ? '\n' : '';
    this.heldCR = false;
    return rest;
  }
}

function notUtf8(line: number): TargetsFileError {
  return new TargetsFileError('the file is not UTF-8 text. Save it as UTF-8 CSV.', line);
}

/** The line breaks in `bytes`: LF, CRLF or CR. `afterCR`: the byte before `bytes` was a CR (a first LF ends no line). */
function lineBreaks(bytes: Uint8Array, afterCR: boolean): number {
  let breaks = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === 0x0d || (byte === 0x0a && (i === 0 ? !afterCR : bytes[i - 1] !== 0x0d))) breaks++;
  }
  return breaks;
}

/** How many line breaks come before the first line of `bytes` that is not valid UTF-8. */
function breaksBeforeInvalid(bytes: Uint8Array, afterCR: boolean): number {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x0a && bytes[i] !== 0x0d) continue;
    try {
      strict.decode(bytes.subarray(start, i));
    } catch {
      return lineBreaks(bytes.subarray(0, start), afterCR);
    }
    start = i + 1;
  }
  return lineBreaks(bytes, afterCR);
}

/** The length of `bytes` without a UTF-8 sequence cut off at its end (the next chunk holds the rest of it). */
function completeLength(bytes: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if (byte < 0x80) return bytes.length;
    if (byte >= 0xc0) {
      const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return length > back ? bytes.length - back : bytes.length;
    }
  }
  return bytes.length;
}
