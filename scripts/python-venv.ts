/**
 * The Python virtual environment of the cross-language tests (test/cross-language.test.ts): the Python SDK, pinned in
 * test/python/requirements.txt, installed from PyPI into .tools/python-venv on first use and again whenever the pins
 * change. Needs `python3` with its venv module (Debian: the python3-venv package, which .ci/run installs).
 *
 *   tsx scripts/python-venv.ts      (npm run setup:python) creates it now and prints its python
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..');
export const requirementsFile = join(root, 'test', 'python', 'requirements.txt');
export const venvDir = join(root, '.tools', 'python-venv');
const stampFile = join(venvDir, 'requirements.sha256');
const lockDir = join(root, '.tools', 'python-venv.lock');
/** A lock older than this was left by a killed install: a venv and a pip install take seconds, not minutes. */
const staleLockMs = 10 * 60_000;

export const venvPython = join(venvDir, process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');

/** The venv's python, after creating the venv if it is missing or was built from other pins. */
export async function ensurePythonVenv(): Promise<string> {
  const wanted = createHash('sha256').update(readFileSync(requirementsFile)).digest('hex');
  if (isCurrent(wanted)) return venvPython;
  await withLock(async () => {
    if (isCurrent(wanted)) return; // another process built it while this one waited
    const started = Date.now();
    process.stderr.write(`creating ${venvDir} with ${requirementsFile} from PyPI …\n`);
    rmSync(venvDir, { recursive: true, force: true });
    await run('python3', ['-m', 'venv', venvDir], 'On Debian or Ubuntu, install python3-venv (as .ci/run does).');
    await run(
      venvPython,
      ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', '-r', requirementsFile],
      'Check that PyPI is reachable and that python3 is 3.10 or newer (temporalio needs it).',
    );
    // Written last: a venv without its stamp is half-built and is built again.
    writeFileSync(stampFile, `${wanted}\n`);
    process.stderr.write(`created ${venvDir} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });
  return venvPython;
}

function isCurrent(wanted: string): boolean {
  return existsSync(venvPython) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === wanted;
}

/** Runs a command; on failure throws with everything it printed, so that an install problem is read, not guessed. */
function run(command: string, args: string[], hint: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const failure = (why: string) =>
      new Error(`${command} ${args.join(' ')} ${why}. ${hint}\n--- its output ---\n${output.trimEnd()}`);
    child.on('error', (error) => fail(failure(`could not start (${error.message})`)));
    child.on('close', (code, signal) => (code === 0 ? done() : fail(failure(`failed (${signal ?? `exit ${code}`})`))));
  });
}

/** One venv build at a time across processes: two pip installs into one venv corrupt it. */
async function withLock(build: () => Promise<void>): Promise<void> {
  mkdirSync(join(root, '.tools'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const since = lockedSince();
      if (since === undefined) continue; // released meanwhile: try again at once
      if (Date.now() - since > staleLockMs) rmSync(lockDir, { recursive: true, force: true });
      else await new Promise((wait) => setTimeout(wait, 500));
    }
  }
  try {
    await build();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

function lockedSince(): number | undefined {
  try {
    return statSync(lockDir).mtimeMs;
  } catch {
    return undefined;
  }
}

if (require.main === module) {
  ensurePythonVenv().then(
    (python) => console.log(python),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    },
  );
}
