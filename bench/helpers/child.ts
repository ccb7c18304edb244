import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { root } from './temporal';

export interface TsChild {
  process: ChildProcess;
  /** The node process itself (no wrapper), so /proc figures are its own. */
  pid: number;
  /** Resolves with every stdout line once the process exits with 0; rejects otherwise. */
  done: Promise<string[]>;
  /** Resolves at the first stdout line matching. */
  line(match: RegExp): Promise<string>;
}

/** Runs a bench/ TypeScript file in its own node process (`node --import tsx`). */
export function runTsChild(file: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): TsChild {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', file), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  let buffer = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter((w) => w.match.test(line))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const done = new Promise<string[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (buffer) lines.push(buffer);
      if (code === 0) resolve(lines);
      else reject(new Error(`bench/${file} exited with ${signal ?? code}`));
    });
  });
  return {
    process: child,
    pid: child.pid!,
    done,
    line: (match) =>
      new Promise<string>((resolve, reject) => {
        const seen = lines.find((l) => match.test(l));
        if (seen !== undefined) return resolve(seen);
        waiters.push({ match, resolve });
        done.then(() => reject(new Error(`bench/${file} ended before printing ${match}`)), reject);
      }),
  };
}
