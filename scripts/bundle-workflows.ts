// Prebundles the workflow code for production workers (`npm run build`), so a worker starts without webpack.
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { encryptingFailureConverterPath } from '../src/encryption/codec';

async function main(): Promise<void> {
  const root = resolve(__dirname, '..');
  const workflowsPath = join(root, 'src', 'workflows', 'index.ts');
  // Two bundles: the failure converter is part of the workflow code, and only workers with encryption keys
  // (src/worker.ts picks the bundle) put failure messages into payloads for the codec to encrypt.
  const bundles = [
    { file: 'workflow-bundle.js' },
    { file: 'workflow-bundle-encrypted.js', failureConverterPath: encryptingFailureConverterPath },
  ];
  for (const { file, ...options } of bundles) {
    const { code } = await bundleWorkflowCode({ workflowsPath, ...options });
    const out = join(root, 'lib', file);
    writeFileSync(out, code);
    console.log(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
