import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './browser';

/** Debian's PostgreSQL 15 server binaries (the `postgresql` package). */
export const postgresBinDir = '/usr/lib/postgresql/15/bin';

const run = promisify(execFile);

export interface TestPostgres {
  /** postgres://agentphone:…@127.0.0.1:PORT/postgres, a superuser. */
  url: string;
  /** The server's data directory (owned by `postgres` when the tests run as root). */
  dataDir: string;
  /** A new, empty database on the server, and its URL. */
  createDatabase(): Promise<string>;
  /**
   * Stops the server (fast: open connections are cut), runs `whileDown` if given, and starts the server again on the
   * same port.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** Stops the server and deletes its files. */
  stop(): Promise<void>;
}

/**
 * Starts a PostgreSQL 15 of its own in a temporary directory, on a free loopback port, with password (SCRAM)
 * authentication. Throws, naming the package to install, when the binaries are missing: tests fail, never skip.
 */
export async function startPostgres(): Promise<TestPostgres> {
  for (const binary of ['initdb', 'pg_ctl']) {
    if (!existsSync(join(postgresBinDir, binary))) {
      throw new Error(
        `${join(postgresBinDir, binary)} is missing: install PostgreSQL 15 with \`apt-get install -y postgresql\` ` +
          'to run the contact store tests.',
      );
    }
  }
  const root = mkdtempSync(join(tmpdir(), 'agentphone-pg-'));
  const dataDir = join(root, 'data');
  const logFile = join(root, 'server.log');
  const password = randomBytes(18).toString('base64url');
  const passwordFile = join(root, 'password');
  writeFileSync(passwordFile, password, { mode: 0o600 });
  // initdb and pg_ctl refuse to run as root: as root, they run as the `postgres` user, who must own their files.
  const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
  if (owner) {
    chownSync(root, owner.uid, owner.gid);
    chownSync(passwordFile, owner.uid, owner.gid);
  }
  const asOwner = (binary: string, args: string[]) =>
    owner
      ? run('runuser', ['-u', 'postgres', '--', join(postgresBinDir, binary), ...args])
      : run(join(postgresBinDir, binary), args);

  await asOwner('initdb', [
    '-D',
    dataDir,
    '-U',
    'agentphone',
    `--pwfile=${passwordFile}`,
    '--auth=scram-sha-256',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
  ]);

  let port = 0;
  const start = async () => {
    try {
      await asOwner('pg_ctl', [
        '-D',
        dataDir,
        '-l',
        logFile,
        '-w',
        '-o',
        `-p ${port} -k ${root} -c listen_addresses=127.0.0.1`,
        'start',
      ]);
    } catch (error) {
      throw new Error(`PostgreSQL did not start on port ${port}:\n${tail(logFile)}`, { cause: error });
    }
  };
  const stopServer = () => asOwner('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);

  // A free port can be taken between freePort() and the server's bind: try another.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await start();
      break;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }

  const urlOf = (database: string) =>
    `postgres://agentphone:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  let databases = 0;
  return {
    url: urlOf('postgres'),
    dataDir,
    async createDatabase() {
      const name = `test_${process.pid}_${++databases}`;
      const client = new Client({ connectionString: urlOf('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return urlOf(name);
    },
    async restart(whileDown) {
      await stopServer();
      try {
        await whileDown?.();
      } finally {
        await start();
      }
    },
    async stop() {
      try {
        await stopServer();
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

function postgresUser(): { uid: number; gid: number } {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    return { uid, gid };
  } catch (error) {
    throw new Error(
      'The tests run as root, and PostgreSQL must run as the `postgres` user, which does not exist: install ' +
        '`apt-get install -y postgresql` (it creates the user).',
      { cause: error },
    );
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no server log)';
  }
}
