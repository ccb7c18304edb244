import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dataConverterFor,
  EncryptionCodec,
  encryptedEncoding,
  formatMetadataKey,
  formatV1,
  keyIdMetadataKey,
  PayloadDecryptionError,
} from '../src/encryption/codec';
import {
  type CodecServer,
  defaultMaxBodyBytes,
  type JsonPayload,
  payloadFromJson,
  payloadToJson,
  startCodecServer,
} from '../src/encryption/codec-server';
import { codecServerOptionsFrom } from '../src/encryption/codec-server-cli';
import { failureConverter } from '../src/encryption/failure-converter';
import {
  createKeyRing,
  EncryptionConfigError,
  EncryptionKey,
  generateKey,
  keyFileEnvVar,
  keysEnvVar,
  loadKeyRing,
} from '../src/encryption/keys';

const keyA = randomBytes(32);
const keyB = randomBytes(32);
const entryA = `A:${keyA.toString('base64')}`;
const entryB = `B:${keyB.toString('base64')}`;
const ringA = createKeyRing([new EncryptionKey('A', keyA)]);
const ringBA = createKeyRing([new EncryptionKey('B', keyB), new EncryptionKey('A', keyA)]);
const ringB = createKeyRing([new EncryptionKey('B', keyB)]);

const call = { toPhoneNumber: '+15551234567', objective: 'Ask Dana about her prescription refill' };
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');
/** A payload's bytes as Buffers: protobuf decoding yields Buffers, the payload converter Uint8Arrays. */
const bytesOf = ({ metadata, data }: Payload) => ({
  metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? [])])),
  data: Buffer.from(data ?? []),
});

function configError(env: NodeJS.ProcessEnv): EncryptionConfigError {
  try {
    loadKeyRing(env);
  } catch (error) {
    expect(error).toBeInstanceOf(EncryptionConfigError);
    return error as EncryptionConfigError;
  }
  throw new Error('expected an EncryptionConfigError');
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('the key ring', () => {
  it('reads AGENTPHONE_ENCRYPTION_KEYS newest first: the first key encrypts, every key decrypts', () => {
    const ring = loadKeyRing({ [keysEnvVar]: ` ${entryB} , ${entryA},` });
    expect(ring?.current.id).toBe('B');
    expect(ring?.current.key.equals(keyB)).toBe(true);
    expect(ring?.ids).toEqual(['B', 'A']);
    expect(ring?.byId('A')?.key.equals(keyA)).toBe(true);
    expect(ring?.byId('C')).toBeUndefined();
  });

  it('reads a key file, one entry a line, with comments and blank lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'agentphone-keys-'));
    try {
      const file = join(dir, 'keys');
      writeFileSync(file, `# rotated 2026-07\n${entryB}   # current\n\n${entryA}\r\n`);
      expect(loadKeyRing({ [keyFileEnvVar]: file })?.ids).toEqual(['B', 'A']);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('is undefined when neither variable is set: payloads stay plain', () => {
    expect(loadKeyRing({})).toBeUndefined();
  });

  it('names the variable and the entry of a bad id, and quotes neither the id nor the key', () => {
    const badId = `${keyA.toString('base64').slice(0, 10)} x`;
    const error = configError({ [keysEnvVar]: `${entryB},${badId}:${keyA.toString('base64')}` });
    expect(error.message).toContain('AGENTPHONE_ENCRYPTION_KEYS entry 2');
    expect(error.message).toMatch(/id must be 1 to 64 characters/);
    expect(error.message).not.toContain(badId);
    expect(error.message).not.toContain(keyA.toString('base64'));
    expect(error.message).not.toContain(keyB.toString('base64'));
  });

  it('refuses a key that is not 32 bytes, naming its id and its length', () => {
    const short = randomBytes(16).toString('base64');
    const error = configError({ [keysEnvVar]: `short:${short}` });
    expect(error.message).toContain("AGENTPHONE_ENCRYPTION_KEYS entry 1 (id 'short')");
    expect(error.message).toContain('16 bytes');
    expect(error.message).not.toContain(short);
  });

  it('refuses a key that is not base64, and an entry without an id', () => {
    const error = configError({ [keysEnvVar]: `k1:not base64!,${keyA.toString('base64')}` });
    expect(error.problems).toEqual([
      "AGENTPHONE_ENCRYPTION_KEYS entry 1 (id 'k1'): the key is not valid base64.",
      'AGENTPHONE_ENCRYPTION_KEYS entry 2 is not <id>:<base64 key>.',
    ]);
    expect(error.message).not.toContain(keyA.toString('base64'));
  });

  it('refuses a duplicate id', () => {
    const error = configError({ [keysEnvVar]: `${entryA},A:${keyB.toString('base64')}` });
    expect(error.message).toContain("entry 2 (id 'A'): the id is used by an earlier entry");
    expect(error.message).not.toContain(keyB.toString('base64'));
  });

  it('refuses both variables at once, without reading either', () => {
    const error = configError({ [keysEnvVar]: entryA, [keyFileEnvVar]: '/nonexistent/keys' });
    expect(error.message).toContain('AGENTPHONE_ENCRYPTION_KEYS and AGENTPHONE_ENCRYPTION_KEY_FILE are both set');
    expect(error.message).not.toContain(keyA.toString('base64'));
  });

  it('refuses a variable that is set but empty, rather than quietly not encrypting', () => {
    expect(configError({ [keysEnvVar]: ' ' }).message).toContain('AGENTPHONE_ENCRYPTION_KEYS is set but holds no key');
  });

  it('names an unreadable key file by its path and error code', () => {
    const error = configError({ [keyFileEnvVar]: '/nonexistent/keys' });
    expect(error.message).toContain(
      'AGENTPHONE_ENCRYPTION_KEY_FILE (/nonexistent/keys): cannot read the file (ENOENT)',
    );
  });

  it('shows a key as its id only when logged or serialised', () => {
    const key = ringA.current;
    expect(JSON.stringify({ key })).toBe('{"key":{"id":"A"}}');
    expect(inspect(ringA, { depth: 5 })).not.toContain(keyA.toString('base64'));
    expect(inspect(key)).toBe("EncryptionKey { id: 'A' }");
  });

  it('generates fresh keys that it reads back', () => {
    const [one, two] = [generateKey(), generateKey()];
    expect(one).toMatch(/^demo-\d{8}T\d{6}:[A-Za-z0-9+/]{43}=$/);
    expect(one).not.toBe(two);
    expect(loadKeyRing({ [keysEnvVar]: one })?.current.key).toHaveLength(32);
  });
});

describe('the encryption codec', () => {
  const plain = () => defaultPayloadConverter.toPayload(call);

  it('round-trips a payload, whose encrypted form names the key and holds none of the plaintext', async () => {
    const codec = new EncryptionCodec(ringA);
    const [encrypted] = await codec.encode([plain()]);
    expect(text(encrypted?.metadata?.encoding)).toBe(encryptedEncoding);
    expect(text(encrypted?.metadata?.[keyIdMetadataKey])).toBe('A');
    expect(text(encrypted?.metadata?.[formatMetadataKey])).toBe(formatV1);
    expect(Object.keys(encrypted?.metadata ?? {})).toHaveLength(3);
    expect(text(encrypted?.data)).not.toContain('+15551234567');
    expect(text(encrypted?.data)).not.toContain('json/plain');

    const [decoded] = await codec.decode([encrypted as Payload]);
    expect(bytesOf(decoded as Payload)).toEqual(bytesOf(plain()));
    expect(defaultPayloadConverter.fromPayload(decoded as Payload)).toEqual(call);
  });

  it('uses a fresh IV for every payload: the same value never encrypts to the same bytes', async () => {
    const [one, two] = await new EncryptionCodec(ringA).encode([plain(), plain()]);
    expect(Buffer.from(one?.data ?? []).equals(Buffer.from(two?.data ?? []))).toBe(false);
    expect(Buffer.from(one?.data ?? []).subarray(0, 12)).not.toEqual(Buffer.from(two?.data ?? []).subarray(0, 12));
  });

  it('keeps decoding old payloads after a rotation, and names the missing key when it was removed', async () => {
    const encrypted = await new EncryptionCodec(ringA).encode([plain()]);
    const [decoded] = await new EncryptionCodec(ringBA).decode(encrypted);
    expect(bytesOf(decoded as Payload)).toEqual(bytesOf(plain()));

    const [reencrypted] = await new EncryptionCodec(ringBA).encode([plain()]);
    expect(text(reencrypted?.metadata?.[keyIdMetadataKey])).toBe('B');

    const error = await rejection(new EncryptionCodec(ringB).decode(encrypted));
    expect(error).toBeInstanceOf(PayloadDecryptionError);
    expect(error.message).toBe(
      "payload encrypted with key 'A', which is not configured: add it to AGENTPHONE_ENCRYPTION_KEYS",
    );
    expect((error as PayloadDecryptionError).keyId).toBe('A');
  });

  it('passes plain payloads through decode untouched: histories from before encryption stay readable', async () => {
    const payloads = [plain(), defaultPayloadConverter.toPayload(undefined), { data: new Uint8Array([1, 2]) }];
    const decoded = await new EncryptionCodec(ringA).decode(payloads);
    decoded.forEach((payload, i) => expect(payload).toBe(payloads[i]));
  });

  it('refuses a payload whose IV, ciphertext or tag was altered', async () => {
    const codec = new EncryptionCodec(ringA);
    const [encrypted] = await codec.encode([plain()]);
    const length = encrypted?.data?.length ?? 0;
    for (const at of [0, 20, length - 1]) {
      const data = Buffer.from(encrypted?.data ?? []);
      data[at] = (data[at] ?? 0) ^ 0x01;
      const error = await rejection(codec.decode([{ ...encrypted, data }]));
      expect(error.message).toMatch(/^payload encrypted with key 'A' failed authentication/);
    }
    const truncated = { ...encrypted, data: encrypted?.data?.subarray(0, 20) };
    expect((await rejection(codec.decode([truncated]))).message).toBe("payload encrypted with key 'A' is truncated");
  });

  it('refuses a payload whose key id was swapped, even for the same key under another name', async () => {
    const twin = createKeyRing([new EncryptionKey('A', keyA), new EncryptionKey('A2', keyA)]);
    const codec = new EncryptionCodec(twin);
    const [encrypted] = await codec.encode([plain()]);
    const swapped = { ...encrypted, metadata: { ...encrypted?.metadata, [keyIdMetadataKey]: Buffer.from('A2') } };
    expect((await rejection(codec.decode([swapped]))).message).toMatch(/key 'A2' failed authentication/);

    const otherFormat = { ...encrypted, metadata: { ...encrypted?.metadata, [formatMetadataKey]: Buffer.from('v0') } };
    expect((await rejection(codec.decode([otherFormat]))).message).toMatch(/in format 'v0' that this codec does not/);

    const injected = { ...encrypted, metadata: { ...encrypted?.metadata, [keyIdMetadataKey]: Buffer.from('A\nB') } };
    expect((await rejection(codec.decode([injected]))).message).toBe(
      'encrypted payload has an encryption-key-id that is not a key id',
    );

    const { [keyIdMetadataKey]: _dropped, ...withoutId } = encrypted?.metadata ?? {};
    expect((await rejection(codec.decode([{ ...encrypted, metadata: withoutId }]))).message).toMatch(
      /no encryption-key-id metadata/,
    );
  });

  it('round-trips a 1 MB transcript', async () => {
    const transcript = randomBytes(512 * 1024).toString('hex');
    const codec = new EncryptionCodec(ringBA);
    const encrypted = await codec.encode([defaultPayloadConverter.toPayload({ transcript })]);
    const [decoded] = await codec.decode(encrypted);
    expect(defaultPayloadConverter.fromPayload(decoded as Payload)).toEqual({ transcript });
  });

  it('is the data converter with a key ring, and the SDK defaults without one', () => {
    expect(dataConverterFor(undefined)).toEqual({});
    const converter = dataConverterFor(ringA);
    expect(converter.payloadCodecs).toHaveLength(1);
    expect(converter.payloadCodecs?.[0]).toBeInstanceOf(EncryptionCodec);
    expect(converter.failureConverterPath).toBe(join(__dirname, '..', 'src', 'encryption', 'failure-converter'));
  });

  it('moves failure messages and stack traces into a payload, which the codec encrypts', async () => {
    const failure = failureConverter.errorToFailure(
      new Error(`call to ${call.toPhoneNumber} failed`),
      defaultPayloadConverter,
    );
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace).toBe('');
    const [encrypted] = await new EncryptionCodec(ringA).encode([failure.encodedAttributes as Payload]);
    expect(text(encrypted?.data)).not.toContain(call.toPhoneNumber);
    const [decoded] = await new EncryptionCodec(ringA).decode([encrypted as Payload]);
    const restored = failureConverter.failureToError(
      { ...failure, encodedAttributes: decoded },
      defaultPayloadConverter,
    );
    expect(restored.message).toBe(`call to ${call.toPhoneNumber} failed`);
  });

  it('leaves one failure plain: a payload it cannot decrypt, whose message names only the key id', async () => {
    const [underA] = await new EncryptionCodec(ringA).encode([defaultPayloadConverter.toPayload(call)]);
    const missing = await new EncryptionCodec(createKeyRing([new EncryptionKey('B', keyB)]))
      .decode([underA as Payload])
      .catch((e: Error) => e);
    expect(missing).toBeInstanceOf(PayloadDecryptionError);
    for (const error of [missing, new Error('activation failed', { cause: missing })]) {
      const failure = failureConverter.errorToFailure(error, defaultPayloadConverter);
      expect(failure.encodedAttributes).toBeUndefined();
      expect(JSON.stringify(failure)).toContain("payload encrypted with key 'A', which is not configured");
      expect(JSON.stringify(failure)).not.toContain(call.toPhoneNumber);
    }
  });
});

describe('the codec server', () => {
  const token = 'codec-test-token-0123456789';
  const origin = 'http://localhost:8233';
  const logLines: string[] = [];
  const bodies: string[] = [];
  let server: CodecServer;

  beforeAll(async () => {
    server = await startCodecServer({
      ring: ringBA,
      token,
      port: 0,
      allowedOrigins: [origin],
      log: (line) => logLines.push(line),
    });
  });
  afterAll(async () => {
    await server.close();
    // Nothing the server said, in a body or a log line, holds key material or a payload's plaintext.
    const said = [...bodies, ...logLines].join('\n');
    for (const secret of [keyA.toString('base64'), keyB.toString('base64'), keyA.toString('hex'), call.objective]) {
      expect(said).not.toContain(secret);
    }
  });

  async function post(
    path: string,
    body: string,
    headers: Record<string, string> = { authorization: `Bearer ${token}`, origin },
  ): Promise<{ status: number; headers: Headers; body: string }> {
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body,
    });
    const text = await response.text();
    bodies.push(text);
    return { status: response.status, headers: response.headers, body: text };
  }

  const toJson = (payloads: Payload[]) => JSON.stringify({ payloads: payloads.map(payloadToJson) });
  const fromJson = (body: string) => (JSON.parse(body) as { payloads: JsonPayload[] }).payloads.map(payloadFromJson);

  it('encodes and decodes the JSON the Web UI sends, for an allowed origin with the token', async () => {
    const plain = defaultPayloadConverter.toPayload(call);
    const encoded = await post('/encode', toJson([plain]));
    expect(encoded.status).toBe(200);
    expect(encoded.headers.get('access-control-allow-origin')).toBe(origin);
    expect(encoded.headers.get('access-control-allow-credentials')).toBe('true');
    expect(encoded.headers.get('cache-control')).toBe('no-store');
    const [wire] = JSON.parse(encoded.body).payloads as JsonPayload[];
    expect(wire?.metadata).toEqual({
      encoding: Buffer.from('binary/encrypted').toString('base64'),
      [keyIdMetadataKey]: Buffer.from('B').toString('base64'),
      [formatMetadataKey]: Buffer.from(formatV1).toString('base64'),
    });
    expect(encoded.body).not.toContain(call.objective);

    // The Web UI's own URL (temporalio/ui src/lib/services/data-encoder.ts).
    const decoded = await post('/decode?preserveStorageRefs=true', encoded.body);
    expect(decoded.status).toBe(200);
    expect(defaultPayloadConverter.fromPayload(fromJson(decoded.body)[0] as Payload)).toEqual(call);
  });

  it('decodes what the workers encrypted with an older key, and passes plain payloads through', async () => {
    const old = await new EncryptionCodec(ringA).encode([defaultPayloadConverter.toPayload('old')]);
    const plain = defaultPayloadConverter.toPayload('plain');
    const decoded = await post('/decode', toJson([...old, plain]));
    expect(decoded.status).toBe(200);
    expect(fromJson(decoded.body).map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['old', 'plain']);
  });

  it('serves the CLI: no Origin, and the namespace in the path', async () => {
    const encoded = await new EncryptionCodec(ringBA).encode([defaultPayloadConverter.toPayload('cli')]);
    const decoded = await post('/default/decode', toJson(encoded), { authorization: `Bearer ${token}` });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBeNull();
    expect(defaultPayloadConverter.fromPayload(fromJson(decoded.body)[0] as Payload)).toBe('cli');
  });

  it('serves the Web UI with the token in its endpoint path (the UI sends no Authorization of ours), and never logs it', async () => {
    const encoded = await new EncryptionCodec(ringBA).encode([defaultPayloadConverter.toPayload('ui')]);
    const decoded = await post(`/t/${token}/decode?preserveStorageRefs=true`, toJson(encoded), { origin });
    expect(decoded.status).toBe(200);
    expect(defaultPayloadConverter.fromPayload(fromJson(decoded.body)[0] as Payload)).toBe('ui');
    const wrong = await post(`/t/${token}x/decode`, toJson(encoded), { origin });
    expect(wrong.status).toBe(401);
    expect(logLines.join('\n')).toContain('/t/•••/decode');
    expect(logLines.join('\n')).not.toContain(token);
  });

  it('answers the preflight of an allowed origin with its headers, without asking for the token', async () => {
    const response = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace,authorization',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(origin);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-headers')).toBe('content-type, x-namespace, authorization');
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it("refuses another origin's preflight and requests with 403 and no CORS headers", async () => {
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:8234', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const posted = await post('/decode', toJson([]), { authorization: `Bearer ${token}`, origin: 'https://evil.test' });
    expect(posted.status).toBe(403);
    expect(posted.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses requests without the token, or with a wrong one, with 401', async () => {
    const refused: Record<string, string>[] = [
      { origin },
      { origin, authorization: 'Bearer wrong-token-0123456789' },
      { origin, authorization: `Bearer ${token}x` },
      { origin, authorization: `Basic ${token}` },
      { origin, authorization: token },
    ];
    for (const headers of refused) {
      const response = await post('/decode', toJson([]), headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      // The browser may read the refusal, so the UI can say why.
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
    }
  });

  it('refuses an oversized body with 413 from its Content-Length, before it is sent', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${server.url}/decode`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-length': String(defaultMaxBodyBytes + 1) },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);
    expect(JSON.parse(body)).toEqual({ error: `body larger than ${defaultMaxBodyBytes} bytes` });
  });

  it('refuses a streamed body with 413 as soon as it passes the limit', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.url}/decode`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' },
      });
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (error) => (answered ? undefined : reject(error)));
      const chunk = Buffer.alloc(64 * 1024, 'a');
      let sent = 0;
      const write = () => {
        while (!answered && sent < 2 * defaultMaxBodyBytes) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', write);
        }
      };
      write();
    });
    expect(status).toBe(413);
  });

  it('refuses a body that is not JSON with 400, without quoting it', async () => {
    const response = await post('/decode', `{"payloads": [${call.objective}`);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error).toMatch(/^the body is not JSON/);
    for (const body of ['{}', '{"payloads":[{"data":42}]}', '{"payloads":[{"metadata":{"encoding":"not base64!"}}]}']) {
      expect((await post('/decode', body)).status).toBe(400);
    }
  });

  it('names the missing key of a payload it cannot decrypt, with 422', async () => {
    const foreign = createKeyRing([new EncryptionKey('retired', randomBytes(32))]);
    const encrypted = await new EncryptionCodec(foreign).encode([defaultPayloadConverter.toPayload(call)]);
    const response = await post('/decode', toJson(encrypted));
    expect(response.status).toBe(422);
    expect(JSON.parse(response.body).error).toBe(
      "payload encrypted with key 'retired', which is not configured: add it to AGENTPHONE_ENCRYPTION_KEYS",
    );
    expect(logLines.some((line) => line.includes("POST /decode → 422 payload encrypted with key 'retired'"))).toBe(
      true,
    );
  });

  it('answers 404 off its two routes and 405 to other methods', async () => {
    expect((await post('/other', '{}')).status).toBe(404);
    const get = await fetch(`${server.url}/decode`, { headers: { authorization: `Bearer ${token}` } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST, OPTIONS');
    bodies.push(await get.text());
  });
});

describe('the codec server command', () => {
  const env = { [keysEnvVar]: `${entryB},${entryA}`, AGENTPHONE_CODEC_TOKEN: 'codec-test-token-0123456789' };

  it('defaults to 127.0.0.1:8888 and the dev server UI', () => {
    const options = codecServerOptionsFrom(env);
    expect(options).toMatchObject({ port: 8888, host: '127.0.0.1', allowedOrigins: ['http://localhost:8233'] });
    expect(options.ring.ids).toEqual(['B', 'A']);
  });

  it('reads its port, host and origins', () => {
    const options = codecServerOptionsFrom({
      ...env,
      AGENTPHONE_CODEC_PORT: '9999',
      AGENTPHONE_CODEC_HOST: '0.0.0.0',
      AGENTPHONE_CODEC_ORIGINS: 'https://temporal.example.com, http://localhost:8233',
    });
    expect(options).toMatchObject({
      port: 9999,
      host: '0.0.0.0',
      allowedOrigins: ['https://temporal.example.com', 'http://localhost:8233'],
    });
  });

  it('refuses to start without a token, a key or valid settings, listing every problem and saying what to do', () => {
    let error: unknown;
    try {
      codecServerOptionsFrom({
        AGENTPHONE_CODEC_PORT: 'http',
        AGENTPHONE_CODEC_ORIGINS: 'http://localhost:8233/',
        AGENTPHONE_CODEC_TOKEN: 'short',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EncryptionConfigError);
    const { problems } = error as EncryptionConfigError;
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/No key configured: set AGENTPHONE_ENCRYPTION_KEYS/);
    expect(problems[1]).toMatch(/AGENTPHONE_CODEC_TOKEN must be at least 16 .* make one with node -e/);
    expect(problems.join('\n')).not.toContain('short');
    expect(() => codecServerOptionsFrom({ [keysEnvVar]: entryA })).toThrow(/AGENTPHONE_CODEC_TOKEN is not set/);
  });

  it('prints one line with its URL when listening, and nothing secret', async () => {
    const child = spawn(
      process.execPath,
      [join(__dirname, '..', 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'src/encryption/codec-server-cli.ts'],
      {
        cwd: join(__dirname, '..'),
        env: { PATH: process.env.PATH, ...env, AGENTPHONE_CODEC_PORT: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      expect(line).toMatch(/^codec server listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
