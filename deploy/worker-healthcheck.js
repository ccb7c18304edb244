// Health check of the worker container: healthy when Temporal saw this container's worker poll its task queue
// within the last minute. A live process that cannot reach Temporal (wrong address, expired key) is unhealthy.
// Reads the same environment as the worker (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS, profile,
// TEMPORAL_TASK_QUEUE). Exit 0 healthy, 1 not.
'use strict';

const { hostname } = require('node:os');
const { join } = require('node:path');
const { Connection } = require('@temporalio/client');
const { loadClientConnectConfig } = require('@temporalio/envconfig');
const { temporal } = require('@temporalio/proto');

// The built package sits beside this folder, in the image (/app/lib) as in a checkout after `npm run build`.
const { loadClientConfig } = require(join(__dirname, '..', 'lib', 'config.js'));

// Workers long-poll for up to a minute, and the server updates a poller's last access time when a poll starts.
const maxSilenceMs = 70_000;

async function main() {
  const { taskQueue } = loadClientConfig();
  const { connectionOptions, namespace = 'default' } = loadClientConnectConfig();
  const connection = await Connection.connect({ ...connectionOptions, connectTimeout: '5s' });
  try {
    const { pollers } = await connection.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    const suffix = `@${hostname()}`;
    const mine = (pollers ?? []).filter((p) => p.identity?.endsWith(suffix));
    const newest = Math.max(0, ...mine.map((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000));
    if (Date.now() - newest > maxSilenceMs) {
      console.error(
        `no poll from ${suffix} on task queue "${taskQueue}" (namespace "${namespace}") in the last minute`,
      );
      return 1;
    }
    return 0;
  } finally {
    await connection.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`health check failed: ${error instanceof Error ? error.message : error}`);
    process.exit(1);
  },
);
