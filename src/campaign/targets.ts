import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { FailureType } from '../failures';
import { checkCallRequest } from '../guardrails';

/** One person or business to call. */
export interface CampaignTarget {
  /** A stable id of the caller's (CRM id): it names the target's call workflow. @default the row's line */
  id?: string;
  toPhoneNumber: string;
  objective: string;
  businessName?: string;
  website?: string;
  /** IANA zone of the recipient, e.g. America/New_York, for the calling window. */
  timezone?: string;
}

/** Why a target was refused at validation. */
export type RefusalReason = FailureType | 'Duplicate' | 'InvalidTimezone' | 'InvalidId';

export interface TargetRefusal {
  /** Position in the source: 1-based CSV line, or 0-based index in `targets`. */
  line?: number;
  index?: number;
  id?: string;
  reason: RefusalReason;
  message: string;
}

/** A target that passed validation; `index` counts valid targets only, in source order. */
export interface ValidTarget {
  index: number;
  /** The part of the call workflow's id that names this target: `t-<id>` or `line-<n>` / `item-<n>`. */
  key: string;
  line?: number;
  target: CampaignTarget;
}

export interface TargetsInspection {
  /** sha256 of the source, so a page read later can prove it reads what was approved. */
  sourceHash: string;
  rows: number;
  valid: number;
  refused: number;
  refusedByReason: Partial<Record<RefusalReason, number>>;
  /** The first refusals, with their reasons (the full list: `campaign preview --all`). */
  refusals: TargetRefusal[];
}

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

export const csvColumns = {
  toPhoneNumber: ['to_phone_number', 'phone', 'phone_number'],
  objective: ['objective'],
  businessName: ['business_name'],
  website: ['website'],
  timezone: ['timezone'],
  id: ['id'],
} as const;

const maxRows = 100_000;
const maxInlineTargets = 1_000;

/** Reads and validates a CSV file of targets. Throws {@link TargetsFileError} when the file itself is unusable. */
export async function readTargetsCsv(path: string): Promise<{ hash: string; valid: ValidTarget[]; refusals: TargetRefusal[]; rows: number }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new TargetsFileError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return { hash: sha256(bytes), ...validateTargets(parseTargetsCsv(bytes)) };
}

interface SourceRow {
  line?: number;
  index?: number;
  fields: Record<string, unknown>;
}

/** Parses CSV bytes: UTF-8 (a BOM is fine), a header row naming the columns, one target a row. */
export function parseTargetsCsv(bytes: Uint8Array): SourceRow[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new TargetsFileError('the file is not UTF-8 text. Save it as UTF-8 CSV.', firstInvalidUtf8Line(bytes));
  }
  let records: { record: Record<string, string>; info: { lines: number }; raw: string }[];
  try {
    // One kind of line end, so that csv-parse counts lines as an editor does (it counts a quoted CRLF twice).
    records = parse(text.replace(/\r\n?/g, '\n'), {
      columns: true,
      bom: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      raw: true,
      max_record_size: 64_000,
    });
  } catch (error) {
    const e = error as Error & { lines?: number };
    throw new TargetsFileError(`not valid CSV: ${e.message.replace(/^Invalid.*?:\s*/, '')}`, e.lines);
  }
  const header = records[0] ? Object.keys(records[0].record) : text.split(/\r?\n/, 1)[0]?.split(',') ?? [];
  const column = (names: readonly string[]) => header.find((h) => names.includes(h.trim().toLowerCase()));
  const phone = column(csvColumns.toPhoneNumber);
  const objective = column(csvColumns.objective);
  const missing = [!phone && 'to_phone_number', !objective && 'objective'].filter(Boolean);
  if (missing.length) throw new TargetsFileError(`the header lacks the column(s) ${missing.join(', ')}.`, 1);
  if (records.length > maxRows) throw new TargetsFileError(`${records.length} rows: at most ${maxRows} per campaign.`, records[maxRows]!.info.lines);
  const pick = (names: readonly string[], record: Record<string, string>) => {
    const name = column(names);
    const value = name === undefined ? undefined : record[name];
    return value === undefined || value === '' ? undefined : value;
  };
  return records.map(({ record, info, raw }) => ({
    line: firstLine(info.lines, raw),
    fields: {
      toPhoneNumber: record[phone!],
      objective: record[objective!],
      businessName: pick(csvColumns.businessName, record),
      website: pick(csvColumns.website, record),
      timezone: pick(csvColumns.timezone, record),
      id: pick(csvColumns.id, record),
    },
  }));
}

/** Inline targets (the workflow argument), validated like CSV rows. */
export function inlineRows(targets: unknown): SourceRow[] {
  if (!Array.isArray(targets)) throw new TargetsFileError('targets must be an array.');
  if (targets.length > maxInlineTargets) {
    throw new TargetsFileError(`${targets.length} inline targets: pass more than ${maxInlineTargets} as targetsCsvPath.`);
  }
  return targets.map((t, index) => ({ index, fields: t && typeof t === 'object' ? (t as Record<string, unknown>) : {} }));
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
      refuse('InvalidTimezone', `timezone must be an IANA zone such as America/New_York: got ${JSON.stringify(timezone).slice(0, 40)}.`);
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
      target: { ...verdict.request, ...(typeof timezone === 'string' ? { timezone } : {}), ...(id ? { id } : {}) },
    });
  }
  return { valid, refusals, rows: rows.length };
}

export function summarize(hash: string, rows: number, valid: number, refusals: TargetRefusal[], keep = 100): TargetsInspection {
  const refusedByReason: Partial<Record<RefusalReason, number>> = {};
  for (const r of refusals) refusedByReason[r.reason] = (refusedByReason[r.reason] ?? 0) + 1;
  return { sourceHash: hash, rows, valid, refused: refusals.length, refusedByReason, refusals: refusals.slice(0, keep) };
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

function firstInvalidUtf8Line(bytes: Uint8Array): number {
  let line = 1;
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, i));
      } catch {
        return line;
      }
      line++;
      start = i + 1;
    }
  }
  return line;
}
