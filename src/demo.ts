import { randomBytes } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Command } from 'commander';
import { createAgentPhoneClient, defaultBaseUrl } from './agentphone';
import { callFailureOf, placeCall } from './calls';
import { loadClientConfig, loadWorkerConfig } from './config';
import { dataConverterFor } from './encryption/codec';
import { type CodecServer, startCodecServer } from './encryption/codec-server';
import { generateKey, keysEnvVar, loadKeyRing } from './encryption/keys';
import { maskPhoneNumber } from './calls';
import { findTemporalBinary } from './dev/temporal-binaries';
import { nextStep } from './shared/failures';
import { searchAttributeKeys } from './shared/search-attributes';
import { magicNumbers, startSimulator, type Simulator } from './simulator';
import { createCallWorker } from './worker';

interface DemoOptions {
  keep?: boolean;
  live?: boolean;
  to?: string;
  objective: string;
  uiPort: string;
}

/**
 * One call, end to end, on this machine: a Temporal dev server with its Web UI, the AgentPhone simulator
 * (or, with --live, the real API) and a worker, all started here and stopped at the end.
 */
async function demo(opts: DemoOptions): Promise<number> {
  const uiPort = Number(opts.uiPort);
  const live = Boolean(opts.live);
  let sim: Simulator | undefined;
  let agentPhone;
  let target: string;
  if (live) {
    const config = loadWorkerConfig();
    if (!opts.to) throw new Error('--live needs --to <E.164 number>: the number that will really be called.');
    target = opts.to;
    agentPhone = createAgentPhoneClient(config.agentPhone);
    console.log(
      `LIVE: this places a real phone call to ${maskPhoneNumber(target)} through ${config.agentPhone.baseUrl}.`,
    );
  } else {
    sim = await startSimulator({ progress: 'time', credits: 5 });
    target = opts.to ?? magicNumbers.achieved;
    agentPhone = createAgentPhoneClient({ apiKey: sim.apiKey, baseUrl: sim.baseUrl });
    console.log(`AgentPhone simulator on ${sim.baseUrl} (no real call is placed; the real API is ${defaultBaseUrl})`);
  }

  // Payloads are encrypted as in production: with the configured keys, else a throwaway key of this run's only.
  const configured = loadClientConfig().encryption;
  const ring = configured ?? loadKeyRing({ [keysEnvVar]: generateKey() })!;
  console.log(
    configured
      ? `Payloads encrypted with key "${ring.current.id}" (${keysEnvVar}).`
      : `Payloads encrypted with a throwaway key "${ring.current.id}", made for this run and kept nowhere: ` +
          `set ${keysEnvVar} to keep one (README, Encryption).`,
  );
  const uiUrl = `http://localhost:${uiPort}`;
  // With --keep, the Web UI reads the call through a codec server on this machine (the token is in its endpoint).
  let codec: { server: CodecServer; endpoint: string } | undefined;
  if (opts.keep) {
    const token = randomBytes(24).toString('base64url');
    const server = await startCodecServer({
      ring,
      token,
      port: 0,
      allowedOrigins: [uiUrl, `http://127.0.0.1:${uiPort}`],
    });
    codec = { server, endpoint: `${server.url}/t/${token}` };
  }

  console.log('Starting a Temporal dev server …');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: findTemporalBinary('cli') },
      ui: true,
      uiPort,
      searchAttributes: searchAttributeKeys,
      ...(codec ? { extraArgs: ['--ui-codec-endpoint', codec.endpoint] } : {}),
    },
    client: { dataConverter: dataConverterFor(ring) },
  });
  const taskQueue = 'agentphone-demo';
  const worker = await createCallWorker({ connection: env.nativeConnection, taskQueue, agentPhone, encryption: ring });
  const running = worker.run();
  console.log(`Temporal Web UI: ${uiUrl}\n`);

  let code = 0;
  const workflowId = `call-demo-${Date.now()}`;
  try {
    console.log(
      `Calling ${maskPhoneNumber(target)} (workflow ${workflowId}) with the contract's timings: a status read every 10 s …`,
    );
    const result = await placeCall(
      env.client,
      { toPhoneNumber: target, objective: opts.objective, businessName: 'Demo Bistro', website: 'https://example.com' },
      {
        workflowId,
        taskQueue,
        onState: (s) => console.log(`  ${s.phase}${s.lastStatus ? ` · ${s.lastStatus}` : ''} · ${s.polls} poll(s)`),
      },
    );
    console.log(`\nCall ${result.callId} completed: ${result.outcome} (${result.durationSeconds ?? '?'} s)`);
    console.log(`Summary:    ${result.summary ?? '(none)'}`);
    console.log(`Recording:  ${result.recordingUrl ?? '(none)'}`);
    // The transcript is the called person's words: it stays in the (encrypted) result, read in the Web UI.
    console.log(
      `Transcript: ${result.transcript ? `${result.transcript.split('\n').length} lines, in the result` : '(none)'}`,
    );
  } catch (error) {
    const failure = callFailureOf(error);
    if (!failure) throw error;
    console.error(`\n${failure.type}: ${failure.message}\nWhat to do: ${nextStep[failure.type]}`);
    code = 1;
  }
  console.log(`\nSee it in the Web UI: ${uiUrl}/namespaces/default/workflows/${workflowId}`);

  if (opts.keep) {
    console.log('--keep: the server, the UI, the codec server and the worker stay up. Press Ctrl-C to stop.');
    await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  }
  worker.shutdown();
  await running;
  await env.teardown();
  await codec?.server.close();
  await sim?.close();
  return code;
}

Runtime.install({ logger: new DefaultLogger('WARN') });

const program = new Command('demo')
  .description('Place one call end to end: Temporal dev server, AgentPhone simulator, worker.')
  .option('--keep', 'leave the server, the Web UI and the worker up after the call')
  .option('--live', 'call the real AgentPhone API (needs AGENTPHONE_API_KEY and --to)')
  .option('--to <e164>', `number to call (default: the simulator's ${magicNumbers.achieved}, outcome achieved)`)
  .option('--objective <text>', 'what the agent should achieve', 'Book a table for two at 7pm tonight')
  .option('--ui-port <port>', 'Web UI port', '8233')
  .action(async (opts: DemoOptions) => {
    process.exitCode = await demo(opts);
  });

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
