import {
  type CodecServerOptions,
  defaultCodecHost,
  defaultCodecOrigins,
  defaultCodecPort,
  startCodecServer,
} from './codec-server';
import { EncryptionConfigError, type KeyRing, keyFileEnvVar, keysEnvVar, loadKeyRing } from './keys';

const makeToken = `node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))"`;
const minTokenLength = 16;

/**
 * The codec server's options from the environment: AGENTPHONE_CODEC_PORT, AGENTPHONE_CODEC_HOST,
 * AGENTPHONE_CODEC_ORIGINS (comma-separated), AGENTPHONE_CODEC_TOKEN (required) and the key ring. Every problem is
 * reported together; no message quotes the token or a key.
 * @throws EncryptionConfigError
 */
export function codecServerOptionsFrom(env: NodeJS.ProcessEnv = process.env): CodecServerOptions {
  const problems: string[] = [];

  let ring: KeyRing | undefined;
  try {
    ring = loadKeyRing(env);
    if (!ring) problems.push(`No key configured: set ${keysEnvVar} or ${keyFileEnvVar} (the workers' keys).`);
  } catch (error) {
    if (!(error instanceof EncryptionConfigError)) throw error;
    problems.push(...error.problems);
  }

  const token = env.AGENTPHONE_CODEC_TOKEN?.trim() ?? '';
  if (token === '') {
    problems.push(`AGENTPHONE_CODEC_TOKEN is not set: make one with ${makeToken}`);
  } else if (token.length < minTokenLength || !/^[\x21-\x7e]+$/.test(token)) {
    problems.push(
      `AGENTPHONE_CODEC_TOKEN must be at least ${minTokenLength} visible ASCII characters: make one with ${makeToken}`,
    );
  }

  const portText = env.AGENTPHONE_CODEC_PORT?.trim();
  const port = portText ? Number(portText) : defaultCodecPort;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push('AGENTPHONE_CODEC_PORT must be a port from 0 to 65535.');
  }

  const host = env.AGENTPHONE_CODEC_HOST?.trim() || defaultCodecHost;

  const originsText = env.AGENTPHONE_CODEC_ORIGINS;
  const allowedOrigins = originsText
    ? originsText
        .split(',')
        .map((o) => o.trim())
        .filter((o) => o !== '')
    : defaultCodecOrigins;
  for (const origin of allowedOrigins) {
    if (!isOrigin(origin)) {
      problems.push(
        `AGENTPHONE_CODEC_ORIGINS: '${origin}' is not an origin (scheme://host[:port], no path), e.g. http://localhost:8233.`,
      );
    }
  }

  if (problems.length > 0 || !ring) throw new EncryptionConfigError(problems);
  return { ring, token, port, host, allowedOrigins };
}

/** What a browser sends as Origin: scheme, host and port only, the way URL serialises them. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return /^https?:$/.test(url.protocol) && url.origin === value;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  let options: CodecServerOptions;
  try {
    options = codecServerOptionsFrom();
  } catch (error) {
    if (!(error instanceof EncryptionConfigError)) throw error;
    console.error(`codec server: ${error.message}`);
    process.exitCode = 1;
    return;
  }
  const server = await startCodecServer(options);
  console.log(`codec server listening on ${server.url}`);
  const stop = () => {
    server.close().catch(() => undefined);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`codec server: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
