import { readdirSync, readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { join, posix, relative, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The layout's one-way flow (docs/architecture.md), checked on every import under src/: the operator's side
// (CLI, starter, demo, typed client helpers) sits above the workers, workflows above activities, and shared types,
// guard rails, the HTTP client and the target lists below both.

const operatorSide = ['src/cli/', 'src/starter.ts', 'src/demo.ts', 'src/calls.ts', 'src/index.ts', 'src/worker.ts'];
const workflowsMayImport = [
  'src/workflows/',
  'src/shared/',
  'src/guardrails/',
  'src/agentphone/contract.ts',
  'src/agentphone/statuses.ts',
];
const workflowsMayImportTypesOf = ['src/agentphone/schemas.ts', 'src/activities/'];
const topLevel = (path: string) => /^src\/[^/]+\.ts$/.test(path);

// The rules, one a row: the files it covers, what they may not import, and why (the table of docs/architecture.md).
const rules: readonly Rule[] = [
  {
    id: 'operator-side-above-workers',
    from: ['src/workflows/', 'src/activities/'],
    mayNotImport: 'src/cli/, src/starter.ts, src/demo.ts, src/calls.ts, src/index.ts, src/worker.ts',
    why: "the operator's side sits above the workers: nothing a worker runs imports it",
    breaks: (i) => i.local && isIn(i.target, operatorSide),
  },
  {
    id: 'activities-below-workflows',
    from: ['src/activities/'],
    mayNotImport: 'src/workflows/ (types too)',
    why: 'activities sit below workflows: they start the gate by its type name and share types through src/shared',
    breaks: (i) => i.local && isIn(i.target, ['src/workflows/']),
  },
  {
    id: 'workflow-bundle',
    from: ['src/workflows/'],
    mayNotImport:
      'src/ but shared, guardrails, agentphone/{contract,statuses}.ts; types of agentphone/schemas.ts, activities',
    why: 'workflows see the API only through the contract and activity types: a small, deterministic bundle',
    breaks: (i) =>
      i.local &&
      isIn(i.target, ['src/']) &&
      !isIn(i.target, workflowsMayImport) &&
      !(i.typeOnly && isIn(i.target, workflowsMayImportTypesOf)),
  },
  {
    id: 'sandbox-without-node',
    from: ['src/workflows/', 'src/shared/', 'src/guardrails/'],
    mayNotImport: 'Node built-ins (node:*, fs, …)',
    why: "workflow code runs in Temporal's sandbox, and src/shared and src/guardrails are part of its bundle",
    breaks: (i) => !i.local && isBuiltin(i.specifier),
  },
  {
    id: 'lower-layers-import-nothing-above',
    from: [
      'src/shared/',
      'src/guardrails/',
      'src/agentphone/',
      'src/domain/',
      'src/encryption/',
      'src/policy/',
      'src/contact-store/',
    ],
    mayNotImport: 'src/workflows/, src/activities/, src/cli/, top-level src/*.ts',
    why: 'they sit below the workflows, activities and clients that use them',
    breaks: (i) => i.local && (isIn(i.target, ['src/workflows/', 'src/activities/', 'src/cli/']) || topLevel(i.target)),
  },
  {
    id: 'policy-and-store-without-temporal',
    from: ['src/policy/', 'src/contact-store/'],
    mayNotImport: '@temporalio/*',
    why: 'the contact policy is rules and a database: activities apply them, so each verdict is recorded in history',
    breaks: (i) => !i.local && i.specifier.startsWith('@temporalio/'),
  },
  {
    id: 'http-client-without-temporal',
    from: ['src/agentphone/'],
    mayNotImport: '@temporalio/*',
    why: 'the HTTP client knows the API contract and nothing of Temporal',
    breaks: (i) => !i.local && i.specifier.startsWith('@temporalio/'),
  },
  {
    id: 'failure-converter-for-the-bundle',
    from: ['src/encryption/failure-converter.ts'],
    mayNotImport: 'anything but @temporalio/common',
    why: 'it is bundled into the workflow code of encrypting workers (lib/workflow-bundle-encrypted.js)',
    breaks: (i) => i.specifier !== '@temporalio/common',
  },
  {
    id: 'contract-is-a-leaf',
    from: ['src/agentphone/contract.ts'],
    mayNotImport: 'anything',
    why: "every side reads the contract's numbers, workflow code included",
    breaks: () => true,
  },
  {
    id: 'no-sdk-internals',
    from: ['src/'],
    mayNotImport: '@temporalio/<package>/lib/…',
    why: "the SDK's internals change without notice between versions",
    breaks: (i) => !i.local && /^@temporalio\/[^/]+\/lib(\/|$)/.test(i.specifier),
  },
];

/** One import: `import`, `import type`, `export … from`, `import x = require()`, `import()` or `require()`. */
interface Import {
  /** The importing file, as `src/…`. */
  file: string;
  line: number;
  specifier: string;
  /** A relative import resolved to a file (`src/shared/failures.ts`); a package import: the specifier itself. */
  target: string;
  local: boolean;
  /** `import type`, `export type`, `typeof import()`, or named bindings that are all `type`: erased at build. */
  typeOnly: boolean;
}

interface Rule {
  id: string;
  /** The files it applies to: a folder ends with `/`. */
  from: readonly string[];
  mayNotImport: string;
  why: string;
  breaks(i: Import): boolean;
}

function isIn(path: string, places: readonly string[]): boolean {
  // An import that resolves to no file (only in the synthetic trees below) is compared without its extension.
  return places.some((place) =>
    place.endsWith('/')
      ? path.startsWith(place) || path === place.slice(0, -1)
      : path === place || `${path}.ts` === place,
  );
}

/**
 * Every import of a file. TypeScript's own pre-processor finds them (every syntax, `require()` and `import()`
 * included); the syntax tree says which are erased at build, which the pre-processor does not.
 */
function readImports(file: string, text: string, files: ReadonlySet<string>): Import[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const typeOnlyAt = new Set<number>();
  const visit = (node: ts.Node): void => {
    const literal = typeOnlySpecifier(node);
    if (literal) typeOnlyAt.add(literal.getStart(source));
    ts.forEachChild(node, visit);
  };
  visit(source);

  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName: specifier, pos }) => {
    const local = specifier.startsWith('.');
    return {
      file,
      line: source.getLineAndCharacterOfPosition(pos).line + 1,
      specifier,
      target: local ? resolveLocal(file, specifier, files) : specifier,
      local,
      typeOnly: typeOnlyAt.has(pos),
    };
  });
}

/** The module specifier of a declaration that is erased at build, if `node` is one. */
function typeOnlySpecifier(node: ts.Node): ts.Node | undefined {
  if (ts.isImportDeclaration(node)) {
    const clause = node.importClause;
    const bindings = clause?.namedBindings;
    const allTypes =
      clause !== undefined &&
      (clause.phaseModifier === ts.SyntaxKind.TypeKeyword ||
        (!clause.name &&
          bindings !== undefined &&
          ts.isNamedImports(bindings) &&
          bindings.elements.length > 0 &&
          bindings.elements.every((e) => e.isTypeOnly)));
    return allTypes ? node.moduleSpecifier : undefined;
  }
  if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
    const clause = node.exportClause;
    const allTypes =
      node.isTypeOnly ||
      (clause !== undefined &&
        ts.isNamedExports(clause) &&
        clause.elements.length > 0 &&
        clause.elements.every((e) => e.isTypeOnly));
    return allTypes ? node.moduleSpecifier : undefined;
  }
  if (ts.isImportEqualsDeclaration(node) && node.isTypeOnly && ts.isExternalModuleReference(node.moduleReference)) {
    return node.moduleReference.expression;
  }
  if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) return node.argument.literal;
  return undefined;
}

/** `../activities` → `src/activities/index.ts`, `./place-call.js` → `src/workflows/place-call.ts`. */
function resolveLocal(file: string, specifier: string, files: ReadonlySet<string>): string {
  const base = posix.normalize(posix.join(posix.dirname(file), specifier)).replace(/\.[cm]?[jt]s$/, '');
  return [`${base}.ts`, `${base}.d.ts`, `${base}/index.ts`].find((candidate) => files.has(candidate)) ?? base;
}

interface Violation {
  rule: Rule;
  import: Import;
}

/** Every import in `sources` (path → text) that breaks a rule, in file order. */
function findViolations(sources: ReadonlyMap<string, string>): Violation[] {
  const files = new Set(sources.keys());
  return [...sources].flatMap(([file, text]) => {
    const applying = rules.filter((rule) => isIn(file, rule.from));
    if (applying.length === 0) return [];
    return readImports(file, text, files).flatMap((i) =>
      applying.filter((rule) => rule.breaks(i)).map((rule) => ({ rule, import: i })),
    );
  });
}

const describeViolation = ({ rule, import: i }: Violation) =>
  `${i.file}:${i.line} → ${i.specifier}${i.typeOnly ? ' (types only)' : ''}: ${rule.why} [${rule.id}]`;

const root = join(__dirname, '..');

function readSources(folder: string): Map<string, string> {
  const sources = new Map<string, string>();
  for (const entry of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    sources.set(relative(root, path).split(sep).join('/'), readFileSync(path, 'utf8'));
  }
  return sources;
}

describe('the layout', () => {
  it('every import under src/ runs the way the layout allows', () => {
    const sources = readSources('src');
    expect(sources.size).toBeGreaterThan(50);
    expect(findViolations(sources).map(describeViolation)).toEqual([]);
  });

  it('reads every form of import, and tells the ones erased at build', () => {
    const text = [
      "import { a } from './a';",
      "import type { B } from './b';",
      "import { type C, type D } from './c';",
      "import { type E, f } from './e';",
      "import './g';",
      "export * from './h';",
      "export type { I } from './i';",
      "export { j } from './j';",
      "import K = require('./k');",
      "const l = require('./l');",
      "const m = import('./m');",
      "type N = typeof import('./n');",
    ].join('\n');
    const read = readImports('src/x.ts', text, new Set(['src/a.ts', 'src/c/index.ts']));
    expect(read.map((i) => [i.specifier, i.typeOnly])).toEqual([
      ['./a', false],
      ['./b', true],
      ['./c', true],
      ['./e', false],
      ['./g', false],
      ['./h', false],
      ['./i', true],
      ['./j', false],
      ['./k', false],
      ['./l', false],
      ['./m', false],
      ['./n', true],
    ]);
    expect(read.map((i) => i.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(read.slice(0, 3).map((i) => i.target)).toEqual(['src/a.ts', 'src/b', 'src/c/index.ts']);
  });

  it('reports one violation of each rule, and none of the imports the rules allow', () => {
    const sources = new Map(
      Object.entries({
        'src/activities/index.ts': [
          "import { FailureType } from '../shared/failures';",
          "import type { Settings } from '../workflows/campaign-settings';",
          "export { run } from '../cli/campaign';",
        ].join('\n'),
        'src/workflows/place-call.ts': [
          "import { proxyActivities } from '@temporalio/workflow';",
          "import type { Activities } from '../activities';",
          "import { type CampaignActivities } from '../activities/campaign';",
          "import { terminalStatuses } from '../agentphone/statuses';",
          "import type { getCallResponseSchema } from '../agentphone/schemas';",
          "import { checkCallRequest } from '../guardrails';",
          "import { createActivities } from '../activities';",
          "const { readTargetsCsv } = await import('../domain/targets');",
          "const { createHash } = require('node:crypto');",
        ].join('\n'),
        'src/shared/timing.ts': [
          "import ms from 'ms';",
          "import * as contract from '../agentphone/contract';",
          "import { defaultTaskQueue } from '../config';",
        ].join('\n'),
        'src/guardrails/phone-number.ts': "import { readFileSync } from 'fs';",
        'src/agentphone/client.ts': [
          "import { redactDeep } from '../shared/redact';",
          "import { log } from '@temporalio/activity';",
        ].join('\n'),
        'src/agentphone/contract.ts': "import type { CallStatus } from './statuses';",
        'src/cli/report.ts': [
          "import type { callCampaignWorkflow } from '../workflows';",
          "import { decodeArrayFromPayloads } from '@temporalio/common/lib/internal-non-workflow';",
        ].join('\n'),
        'src/calls.ts': "import { placeCallWorkflow } from './workflows';",
        'src/encryption/failure-converter.ts': [
          "import { DefaultFailureConverter } from '@temporalio/common';",
          "import { keysEnvVar } from './keys';",
        ].join('\n'),
        'src/policy/caps.ts': "import { log } from '@temporalio/activity';",
        'src/encryption/keys.ts': '',
        'src/config.ts': '',
        'src/workflows/index.ts': '',
        'src/activities/campaign.ts': '',
        'src/domain/targets.ts': '',
      }),
    );
    const found = findViolations(sources);
    expect(found.map((v) => `${v.import.file} → ${v.import.specifier} [${v.rule.id}]`)).toEqual([
      'src/activities/index.ts → ../workflows/campaign-settings [activities-below-workflows]',
      'src/activities/index.ts → ../cli/campaign [operator-side-above-workers]',
      'src/workflows/place-call.ts → ../activities [workflow-bundle]',
      'src/workflows/place-call.ts → ../domain/targets [workflow-bundle]',
      'src/workflows/place-call.ts → node:crypto [sandbox-without-node]',
      'src/shared/timing.ts → ../config [lower-layers-import-nothing-above]',
      'src/guardrails/phone-number.ts → fs [sandbox-without-node]',
      'src/agentphone/client.ts → @temporalio/activity [http-client-without-temporal]',
      'src/agentphone/contract.ts → ./statuses [contract-is-a-leaf]',
      'src/cli/report.ts → @temporalio/common/lib/internal-non-workflow [no-sdk-internals]',
      'src/encryption/failure-converter.ts → ./keys [failure-converter-for-the-bundle]',
      'src/policy/caps.ts → @temporalio/activity [policy-and-store-without-temporal]',
    ]);
    expect(new Set(found.map((v) => v.rule.id))).toEqual(new Set(rules.map((r) => r.id)));
  });
});
