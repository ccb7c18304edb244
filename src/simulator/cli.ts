import { Command, InvalidArgumentError, Option } from 'commander';
import { hostileBehaviours, type Hostility } from './hostile';
import { idempotencyModes, type IdempotencyMode } from './idempotency';
import { startSimulator } from './index';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('Expected a port from 0 to 65535.');
  return n;
}

function credits(value: string): number {
  if (value === 'unlimited') return Infinity;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('Expected a whole number or "unlimited".');
  return n;
}

/** Accepts `0.5` or `1/60`, since the useful scales are fractions of a minute. */
function timeScale(value: string): number {
  const [numerator, denominator = '1', ...rest] = value.split('/');
  const n = Number(numerator) / Number(denominator);
  if (rest.length > 0 || !(n > 0) || !Number.isFinite(n))
    throw new InvalidArgumentError('Expected e.g. 1, 0.5 or 1/60.');
  return n;
}

function rateLimit(value: string): { limit: number; windowMs: number } {
  const match = /^(\d+)\/(\d+(?:\.\d+)?)$/.exec(value);
  const limit = Number(match?.[1]);
  const seconds = Number(match?.[2]);
  if (!(limit >= 1) || !(seconds > 0)) throw new InvalidArgumentError('Expected N/SECONDS, e.g. 10/60.');
  return { limit, windowMs: seconds * 1000 };
}

/** `all`, or behaviour names separated by commas. */
function hostile(value: string): Hostility | 'all' {
  if (value === 'all') return 'all';
  const names = value.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(hostileBehaviours as readonly string[]).includes(name));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `Unknown behaviour ${unknown.join(', ')}; expected "all" or some of ${hostileBehaviours.join(', ')}.`,
    );
  }
  return Object.fromEntries(names.map((name) => [name, true]));
}

const program = new Command('simulator')
  .description('Serve the AgentPhone API locally, with scenarios chosen by magic numbers.')
  .addOption(new Option('--port <port>', 'port to listen on').env('SIMULATOR_PORT').argParser(port).default(8787))
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .addOption(new Option('--api-key <key>', 'the x-api-key to accept').env('AGENTPHONE_API_KEY').default('sim_test_key'))
  .addOption(new Option('--credits <n>', 'credits, or "unlimited"').argParser(credits).default(5))
  .addOption(new Option('--progress <mode>', 'status progress').choices(['polls', 'time']).default('time'))
  .addOption(
    new Option('--time-scale <scale>', 'multiplies durations and the rate window').argParser(timeScale).default(1),
  )
  .addOption(
    new Option('--rate-limit <N/SECONDS>', 'accepted creates per window')
      .argParser(rateLimit)
      .default(rateLimit('10/60'), '10/60'),
  )
  .addOption(
    new Option('--idempotency <mode>', 'honour Idempotency-Key, or ignore it as an API without it would')
      .choices(idempotencyModes)
      .default('honour'),
  )
  .addOption(
    new Option(
      '--hostile <behaviours>',
      `hostile responses: "all" or a comma-separated list of ${hostileBehaviours.join(', ')}`,
    )
      .argParser(hostile)
      .default({}, 'none'),
  );

async function main(): Promise<void> {
  const options = program.parse().opts<{
    port: number;
    host: string;
    apiKey: string;
    credits: number;
    progress: 'polls' | 'time';
    timeScale: number;
    rateLimit: { limit: number; windowMs: number };
    idempotency: IdempotencyMode;
    hostile: Hostility | 'all';
  }>();
  const simulator = await startSimulator({ ...options, log: (line) => console.log(line) });
  const stop = (): void => {
    simulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Printed last: whoever waits for this line may signal at once.
  console.log(`AgentPhone simulator listening at ${simulator.baseUrl}`);
}

main().catch((cause: unknown) => {
  console.error(`simulator: ${cause instanceof Error ? cause.message : String(cause)}`);
  process.exit(1);
});
