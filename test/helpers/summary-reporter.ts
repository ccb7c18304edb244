import type { Reporter, TestModule } from 'vitest/node';

/**
 * Ends the run with one plain line, "Tests: N passed, N failed, N skipped", that any CI log reader understands,
 * and lists every skipped test with the reason it printed, so that nothing is skipped silently.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    for (const module of testModules) {
      const tests = [...module.children.allTests()];
      // A file that failed outside its tests (a beforeAll, an import) counts as a failure of its own.
      if (module.state() === 'failed' && !tests.some((t) => t.result().state === 'failed')) failed++;
      for (const test of tests) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else if (state === 'skipped') skipped.push(`${module.moduleId.split('/test/').pop()}: ${test.fullName}`);
      }
    }
    if (skipped.length)
      console.log(`\nSkipped (each file printed its reason above):\n${skipped.map((s) => `  - ${s}`).join('\n')}`);
    console.log(`\nTests: ${passed} passed, ${failed} failed, ${skipped.length} skipped`);
  }
}
