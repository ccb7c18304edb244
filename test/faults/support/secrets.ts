import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logs } from './processes';

/** A key nobody would write by chance, so that a hit anywhere is a leak. */
export function distinctiveKey(suite: string, hex: string): string {
  return `sk_live_FAULTS_${suite.replace(/\W/g, '_')}_SECRET_${hex}`;
}

/** Files (directories are walked) whose bytes contain `secret`: SQLite pages, histories, CSVs, figures. */
export function filesContaining(paths: string[], secret: string): string[] {
  const needle = Buffer.from(secret);
  const hits: string[] = [];
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    // Links, FIFOs, sockets and devices are not files a suite wrote: reading one could hang or never end.
    const stat = lstatSync(path);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
    } else if (stat.isFile() && readFileSync(path).includes(needle)) {
      hits.push(path);
    }
  };
  paths.forEach(visit);
  return hits;
}

/** Processes (workers, servers, CLI runs) whose output contains `secret`. */
export function logsContaining(logs: Logs, secret: string): string[] {
  return [...logs.sources()].filter(([, text]) => text.includes(secret)).map(([source]) => `log of ${source}`);
}

/** Every file a suite wrote, walked: the number scanned is reported beside the hits. */
export function countFiles(paths: string[]): number {
  let n = 0;
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) readdirSync(path).forEach((entry) => visit(join(path, entry)));
    else n++;
  };
  paths.forEach(visit);
  return n;
}
