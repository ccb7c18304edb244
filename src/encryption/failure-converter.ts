import { DefaultFailureConverter, type FailureConverter } from '@temporalio/common';

// The SDK loads a failure converter only by path (DataConverter.failureConverterPath): in clients, in workers and in
// the workflow bundle, where workflow failures are made. Encoding the common attributes moves failure messages and
// stack traces into a payload, which the encryption codec then encrypts. This file is bundled into the workflow
// sandbox: it imports nothing but @temporalio/common.
const encoding = new DefaultFailureConverter({ encodeCommonAttributes: true });
const plain = new DefaultFailureConverter();

/**
 * Every failure encrypted, but one: a payload this process cannot decrypt (a key that was removed, or never given to
 * this worker). Its message holds only the key's id (the codec quotes nothing else), and whoever must add the key
 * may not read through the codec server, which needs that key too: in plain text, the workflow task failure says
 * "payload encrypted with key 'k1', which is not configured" in the Web UI and the CLI, not "Encoded failure".
 */
export const failureConverter: FailureConverter = {
  errorToFailure: (error, payloadConverter) =>
    (isDecryptionFailure(error) ? plain : encoding).errorToFailure(error, payloadConverter),
  failureToError: (failure, payloadConverter) => encoding.failureToError(failure, payloadConverter),
};

function isDecryptionFailure(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) if (e.name === 'PayloadDecryptionError') return true;
  return false;
}
