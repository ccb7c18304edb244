import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ContactStoreLockedError } from './errors';

// PGlite is one PostgreSQL backend in this process, with no locking of its files: two processes opening one data
// directory would corrupt it. A lock file holding the owner's pid keeps the directory to one open store. A lock left
// by a process that died is taken over; a lock from another host cannot be checked and is never taken over.

export const lockFileName = 'contact-store.lock';

interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** Data directories this process holds: a second open of one of them is refused like another process's. */
const heldHere = new Set<string>();

export interface DataDirLock {
  release(): void;
}

/** Takes the data directory's lock, or throws {@link ContactStoreLockedError} naming its live owner. */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, lockFileName);
  const content = JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() });
  for (let attempt = 0; attempt < 5; attempt++) {
    if (heldHere.has(path)) throw new ContactStoreLockedError(dataDir, path, { pid: process.pid, host: hostname() });
    if (tryCreate(path, content)) return held(path, content);
    const found = readOwner(path);
    if (found === 'gone') continue;
    if (found === 'unreadable') throw new ContactStoreLockedError(dataDir, path);
    if (isAlive(found)) throw new ContactStoreLockedError(dataDir, path, { pid: found.pid, host: found.host });
    takeOver(path, found);
  }
  throw new Error(`Could not take the lock ${path}: other processes keep taking it over. Try again.`);
}

/** Creates the lock whole or not at all: written aside, then hard-linked into place (which fails if it exists). */
function tryCreate(path: string, content: string): boolean {
  const aside = `${path}.${process.pid}.new`;
  writeFileSync(aside, content, { mode: 0o644 });
  try {
    linkSync(aside, path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(aside);
  }
}

function readOwner(path: string): (LockOwner & { raw: string }) | 'gone' | 'unreadable' {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const owner = JSON.parse(raw) as LockOwner;
    return Number.isInteger(owner.pid) && typeof owner.host === 'string' ? { ...owner, raw } : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

function isAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true;
  // Our own pid, but not a directory this process holds: a process before us that had the same pid (a container's
  // pid 1 after a restart) left it.
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) !== 'ESRCH';
  }
}

/**
 * Moves a dead owner's lock aside (rename is atomic: of two processes taking it over, one moves it). If what was
 * moved is not the dead owner's lock, another process took it over meanwhile: it is linked back into place.
 */
function takeOver(path: string, dead: { raw: string }): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  try {
    if (readFileSync(aside, 'utf8') !== dead.raw) linkSync(aside, path);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
  } finally {
    unlinkSync(aside);
  }
}

function held(path: string, content: string): DataDirLock {
  heldHere.add(path);
  // A process that exits without closing the store leaves no lock behind (one that crashes leaves a stale one).
  const onExit = () => removeIfOurs(path, content);
  process.on('exit', onExit);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      process.off('exit', onExit);
      heldHere.delete(path);
      removeIfOurs(path, content);
    },
  };
}

function removeIfOurs(path: string, content: string): void {
  try {
    if (readFileSync(path, 'utf8') === content) unlinkSync(path);
  } catch {
    // Gone already.
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}
