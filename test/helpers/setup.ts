import { DefaultLogger, Runtime } from '@temporalio/worker';

// Worker and core logs at WARN: a passing test prints nothing, a failing one still shows why.
try {
  Runtime.install({ logger: new DefaultLogger('WARN') });
} catch {
  // Installed already in this process.
}
