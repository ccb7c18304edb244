import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec, PayloadDecryptionError } from './codec';
import type { KeyRing } from './keys';

/** The CLI's default port, as in Temporal's samples. */
export const defaultCodecPort = 8888;
/** Loopback only unless told otherwise: the server hands out plaintext to whoever holds the token. */
export const defaultCodecHost = '127.0.0.1';
/** The Web UI of `temporal server start-dev`. */
export const defaultCodecOrigins: readonly string[] = ['http://localhost:8233'];
/** Room for a 1 MB transcript once encrypted, base64-encoded and wrapped in JSON (about 1.4 MB), with margin. */
export const defaultMaxBodyBytes = 4 * 1024 * 1024;

export interface CodecServerOptions {
  ring: KeyRing;
  /** The bearer token every POST must carry (`Authorization: Bearer <token>`). */
  token: string;
  /** 0 picks a free port. @default 8888 */
  port?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /** Browser origins allowed to call (exact match, e.g. `http://localhost:8233`). Requests without an Origin (the CLI) pass. @default ['http://localhost:8233'] */
  allowedOrigins?: readonly string[];
  /** Larger bodies get 413 before they are read. @default 4 MiB */
  maxBodyBytes?: number;
  /** One line per refused or failed request: status and reason, never payload content or key material. @default stderr */
  log?: (line: string) => void;
}

export interface CodecServer {
  /** `http://<host>:<port>`: the endpoint for the Web UI and `temporal --codec-endpoint`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A payload in proto3 JSON, as the Web UI and the CLI send it: every bytes field (data, metadata values) base64. */
export interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

type Route = 'encode' | 'decode';

class HttpProblem extends Error {
  override name = 'HttpProblem';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const allowedHeaders = 'content-type, x-namespace, authorization';
// `/decode`, or `/<namespace>/decode` for `temporal --codec-endpoint 'http://host:8888/{namespace}'`, each also under
// `/t/<token>/`: the Web UI sends no Authorization header of ours (only an OIDC user's own token), so the UI's codec
// endpoint carries the token in its path (`--ui-codec-endpoint http://host:8888/t/<token>`). Never logged.
const routePattern = /^(?:\/t\/([^/]+))?(?:\/[^/]+)?\/(encode|decode)\/?$/;
const tokenInPath = /^\/t\/[^/]+/;
const base64Pattern = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * The Codec Server protocol of the Temporal Web UI and CLI: `POST /encode` and `POST /decode` take and answer
 * `{"payloads":[{"metadata":{"<key>":"<base64>"},"data":"<base64>"}]}`, run through the encryption codec.
 */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const {
    ring,
    token,
    port = defaultCodecPort,
    host = defaultCodecHost,
    allowedOrigins = defaultCodecOrigins,
    maxBodyBytes = defaultMaxBodyBytes,
    log = (line: string) => console.error(line),
  } = options;
  if (token.trim() === '') throw new Error('startCodecServer needs a non-empty token');
  const codec = new EncryptionCodec(ring);
  const origins = new Set(allowedOrigins);
  const expectedToken = digest(token);

  const isAuthorized = (header: string | undefined, inPath: string | undefined): boolean => {
    const presented = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1] ?? inPath;
    // Both sides hashed to one length, so the comparison takes the same time whatever was sent.
    return presented !== undefined && timingSafeEqual(digest(presented), expectedToken);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!origins.has(origin)) throw new HttpProblem(403, 'origin not allowed');
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    const match = routePattern.exec(new URL(req.url ?? '/', 'http://codec').pathname);
    const route = match?.[2] as Route | undefined;
    const pathToken = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    if (req.method === 'OPTIONS') {
      // Browsers send preflights without credentials: they are answered before the token check.
      if (!route) throw new HttpProblem(404, 'not found: use /encode or /decode');
      res.writeHead(204, {
        'Access-Control-Allow-Methods': 'POST, OPTIONS',
        'Access-Control-Allow-Headers': allowedHeaders,
        'Access-Control-Max-Age': '600',
      });
      res.end();
      return;
    }
    if (!isAuthorized(req.headers.authorization, pathToken)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      throw new HttpProblem(401, 'missing or wrong bearer token');
    }
    if (!route) throw new HttpProblem(404, 'not found: use /encode or /decode');
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      throw new HttpProblem(405, 'method not allowed: use POST');
    }

    const payloads = parseBody(await readBody(req, maxBodyBytes));
    const converted = route === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
    sendJson(res, 200, { payloads: converted.map(payloadToJson) });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const { status, message } = describeFailure(error);
      log(
        `codec server: ${req.method} ${req.url?.split('?')[0]?.replace(tokenInPath, '/t/•••')} → ${status} ${message}`,
      );
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (status === 413) closeAfterResponse(req, res);
      sendJson(res, status, { error: message });
    });
  });
  server.requestTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: boundPort } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    port: boundPort,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A payload from its proto3 JSON form. */
export function payloadFromJson({ metadata, data }: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(data ?? '', 'base64'),
  };
}

/** A payload in its proto3 JSON form: empty `data` is left out, as proto3 JSON does. */
export function payloadToJson({ metadata, data }: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
    ),
    ...(data && data.length > 0 ? { data: Buffer.from(data).toString('base64') } : {}),
  };
}

/** The body, or a 413 as soon as it is known to be too large: from Content-Length, or while it streams in. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpProblem(413, `body larger than ${limit} bytes`);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', () => reject(new HttpProblem(400, 'request body aborted')));
  });
}

const bodyShape = 'the body must be {"payloads":[{"metadata":{"<key>":"<base64>"},"data":"<base64>"}]}';

/** Fixed messages only: JSON.parse's own quote the body, which may be plaintext. */
function parseBody(body: Buffer): Payload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpProblem(400, `the body is not JSON; ${bodyShape}`);
  }
  const payloads = isRecord(parsed) ? parsed.payloads : undefined;
  if (!Array.isArray(payloads)) throw new HttpProblem(400, bodyShape);
  return payloads.map((payload: unknown, index) => {
    if (!isJsonPayload(payload)) throw new HttpProblem(400, `payloads[${index}] is not a payload; ${bodyShape}`);
    return payloadFromJson(payload);
  });
}

function isJsonPayload(value: unknown): value is JsonPayload {
  if (!isRecord(value)) return false;
  const { metadata, data } = value;
  const metadataOk =
    metadata === undefined ||
    metadata === null ||
    (isRecord(metadata) && Object.values(metadata).every((v) => typeof v === 'string' && base64Pattern.test(v)));
  const dataOk = data === undefined || data === null || (typeof data === 'string' && base64Pattern.test(data));
  return metadataOk && dataOk;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeFailure(error: unknown): { status: number; message: string } {
  if (error instanceof HttpProblem) return { status: error.status, message: error.message };
  // The codec's own messages name a key id and a reason, nothing of the payload.
  if (error instanceof PayloadDecryptionError) return { status: 422, message: error.message };
  return { status: 500, message: `internal error (${error instanceof Error ? error.name : typeof error})` };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * After a 413 the rest of the body is not read: the connection closes once the answer is out, and is cut if the
 * client keeps sending (the grace lets a client that stopped read the answer before the reset).
 */
function closeAfterResponse(req: IncomingMessage, res: ServerResponse): void {
  res.shouldKeepAlive = false;
  res.setHeader('Connection', 'close');
  res.once('finish', () => setTimeout(() => req.socket.destroy(), 1000).unref());
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
