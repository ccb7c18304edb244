import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type DataConverter, METADATA_ENCODING_KEY, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { isKeyId, type KeyRing, keysEnvVar } from './keys';

/** The `encoding` of an encrypted payload (the name Temporal's samples use, so tools recognise it). */
export const encryptedEncoding = 'binary/encrypted';
/** Metadata: the id of the key that encrypted the payload. */
export const keyIdMetadataKey = 'encryption-key-id';
/** Metadata: the layout of `data`, so a later version can change it and still read this one. */
export const formatMetadataKey = 'encryption-format';
/** Format 1: `data` = IV (12 bytes) | AES-256-GCM ciphertext of the protobuf-encoded original Payload | tag (16). */
export const formatV1 = 'aes-256-gcm/v1';

const ivBytes = 12;
const tagBytes = 16;
const text = new TextEncoder();
const textOf = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined);

/** An encrypted payload that cannot be decrypted here. The message names the key id, never key or payload bytes. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';

  constructor(
    message: string,
    /** The key id the payload names, when it names one. */
    readonly keyId?: string,
  ) {
    super(message);
  }
}

/**
 * Encrypts every payload with the ring's current key (AES-256-GCM, a random IV per payload) and decrypts with whichever
 * configured key a payload names. Payloads that are not encrypted pass `decode` untouched: histories written before
 * encryption was turned on stay readable.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly ring: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { id, key } = this.ring.current;
    return payloads.map((payload) => {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
      cipher.setAAD(additionalData(formatV1, id));
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: text.encode(encryptedEncoding),
          [keyIdMetadataKey]: text.encode(id),
          [formatMetadataKey]: text.encode(formatV1),
        },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decodeOne(payload));
  }

  private decodeOne(payload: Payload): Payload {
    const metadata = payload.metadata ?? {};
    if (textOf(metadata[METADATA_ENCODING_KEY] ?? undefined) !== encryptedEncoding) return payload;

    const keyId = textOf(metadata[keyIdMetadataKey] ?? undefined);
    if (keyId === undefined) {
      throw new PayloadDecryptionError(`encrypted payload has no ${keyIdMetadataKey} metadata: it cannot be decrypted`);
    }
    // Metadata is quoted in messages (and so in logs) only when it has the shape this codec writes.
    if (!isKeyId(keyId)) {
      throw new PayloadDecryptionError(`encrypted payload has an ${keyIdMetadataKey} that is not a key id`);
    }
    const format = textOf(metadata[formatMetadataKey] ?? undefined);
    if (format !== formatV1) {
      const named =
        format === undefined ? 'no format' : /^[\w./-]{1,32}$/.test(format) ? `format '${format}'` : 'a format';
      throw new PayloadDecryptionError(
        `payload encrypted with key '${keyId}' is in ${named} that this codec does not read (it reads '${formatV1}')`,
        keyId,
      );
    }
    const entry = this.ring.byId(keyId);
    if (!entry) {
      throw new PayloadDecryptionError(
        `payload encrypted with key '${keyId}', which is not configured: add it to ${keysEnvVar}`,
        keyId,
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < ivBytes + tagBytes) {
      throw new PayloadDecryptionError(`payload encrypted with key '${keyId}' is truncated`, keyId);
    }

    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', entry.key, data.subarray(0, ivBytes), {
        authTagLength: tagBytes,
      });
      decipher.setAAD(additionalData(format, keyId));
      decipher.setAuthTag(data.subarray(data.length - tagBytes));
      plain = Buffer.concat([decipher.update(data.subarray(ivBytes, data.length - tagBytes)), decipher.final()]);
    } catch {
      throw new PayloadDecryptionError(
        `payload encrypted with key '${keyId}' failed authentication: its data or metadata was altered, ` +
          `or the key configured as '${keyId}' is not the one it was encrypted with`,
        keyId,
      );
    }
    const {
      metadata: originalMetadata,
      data: originalData,
      externalPayloads,
    } = temporal.api.common.v1.Payload.decode(plain);
    return {
      metadata: originalMetadata,
      data: originalData,
      ...(externalPayloads.length > 0 ? { externalPayloads } : {}),
    };
  }
}

/** The format and key id are authenticated with the ciphertext: metadata cannot be swapped between payloads. */
function additionalData(format: string, keyId: string): Buffer {
  // Ids never contain ':' (keys.ts), so the pair reads back one way only.
  return Buffer.from(`${format}:${keyId}`, 'utf8');
}

/**
 * Where the SDK loads the failure converter that puts failure messages and stack traces in an (encrypted) payload.
 * Extensionless: Node finds the compiled `.js` under lib/, tsx and the workflow bundler the `.ts` under src/.
 */
export const encryptingFailureConverterPath = join(__dirname, 'failure-converter');

/**
 * The `dataConverter` for workers, clients and the CLI: with a key ring, payloads are encrypted and failures'
 * messages and stack traces with them; without one, the SDK's defaults (`{}`).
 *
 * The failure converter goes by path because that is the only way the SDK (1.24) takes one: `DataConverter` has no
 * `failureConverter` field. A prebuilt workflow bundle must be made with the same path
 * (`bundleWorkflowCode({ failureConverterPath: encryptingFailureConverterPath })`), or workflow failures stay plain.
 */
export function dataConverterFor(ring: KeyRing | undefined): DataConverter {
  if (!ring) return {};
  return { payloadCodecs: [new EncryptionCodec(ring)], failureConverterPath: encryptingFailureConverterPath };
}
