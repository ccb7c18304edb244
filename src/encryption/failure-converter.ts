import { DefaultFailureConverter } from '@temporalio/common';

// The SDK loads a failure converter only by path (DataConverter.failureConverterPath): in clients, in workers and in
// the workflow bundle, where workflow failures are made. Encoding the common attributes moves failure messages and
// stack traces into a payload, which the encryption codec then encrypts. This file is bundled into the workflow
// sandbox: it imports nothing but @temporalio/common.
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
