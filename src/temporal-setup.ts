import { Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { temporal } from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';
import { searchAttributeKeys } from './shared/search-attributes';

type OperatorService = Connection['operatorService'] | NativeConnection['operatorService'];

export const setupCommand = 'npm run setup:temporal';

/**
 * The package's search attributes that the namespace lacks. A server that cannot answer (the time-skipping test
 * server) is treated as lacking them all: workflows then run without indexing instead of failing their tasks.
 */
export async function missingSearchAttributes(
  operatorService: OperatorService,
  namespace = 'default',
): Promise<string[]> {
  const names = searchAttributeKeys.map((k) => k.name);
  try {
    const { customAttributes } = await operatorService.listSearchAttributes({ namespace });
    return names.filter((name) => !customAttributes?.[name]);
  } catch {
    return names;
  }
}

/** Registers the package's search attributes on the namespace; returns the names it added. */
export async function registerSearchAttributes(
  operatorService: OperatorService,
  namespace = 'default',
): Promise<string[]> {
  const missing = await missingSearchAttributes(operatorService, namespace);
  if (missing.length === 0) return [];
  await operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((name) => [name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
    ),
  });
  return missing;
}

async function main(): Promise<void> {
  const { connectionOptions, namespace = 'default' } = loadClientConnectConfig();
  const connection = await Connection.connect(connectionOptions);
  try {
    const added = await registerSearchAttributes(connection.operatorService, namespace);
    console.log(
      added.length
        ? `Registered on namespace "${namespace}": ${added.join(', ')}`
        : `Namespace "${namespace}" has every AgentPhone search attribute already.`,
    );
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`Could not register the search attributes: ${error instanceof Error ? error.message : error}`);
    console.error('On Temporal Cloud, add them in the namespace settings or with tcld instead.');
    process.exit(1);
  });
}
