/**
 * Every test must be able to fail for the reason its name gives (issue 12). Two ways one could not,
 * caught here by reading the test files: a `return` in a test's body before its end (the "skipped:
 * prerequisite missing" early exit that goes green), and a skipped or focused test (`it.skip`,
 * `xit`, `.only`, ...) without an issue reference on its line or the line above.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { packageRoot } from '../../src/util/paths.js';

const TEST_DIR = join(packageRoot(), 'test');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `it(...)`, `test(...)`, `it.each(table)(...)`, `test.concurrent(...)` and the like. */
function isTestCall(call: ts.CallExpression): boolean {
  let callee: ts.Expression = call.expression;
  if (ts.isCallExpression(callee)) callee = callee.expression;
  if (ts.isPropertyAccessExpression(callee)) callee = callee.expression;
  return ts.isIdentifier(callee) && (callee.text === 'it' || callee.text === 'test');
}

/** `return` statements of a test body that are not its last statement (nested functions are their own business). */
function earlyReturns(source: string, file = 'test.ts'): string[] {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const inBody = (body: ts.Block, name: string) => {
    const last = body.statements[body.statements.length - 1];
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node)) return;
      if (ts.isReturnStatement(node) && node !== last) {
        found.push(`${relative(packageRoot(), file)}:${sourceFile.getLineAndCharacterOfPosition(node.getStart()).line + 1} in "${name}"`);
      }
      ts.forEachChild(node, visit);
    };
    body.statements.forEach(visit);
  };
  const walk = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && isTestCall(node)) {
      const name = node.arguments[0] && ts.isStringLiteralLike(node.arguments[0]) ? node.arguments[0].text : '?';
      const fn = node.arguments.find((a) => ts.isArrowFunction(a) || ts.isFunctionExpression(a)) as ts.ArrowFunction | ts.FunctionExpression | undefined;
      if (fn && ts.isBlock(fn.body)) inBody(fn.body, name);
    }
    ts.forEachChild(node, walk);
  };
  walk(sourceFile);
  return found;
}

const SKIPPING = new Set(['skip', 'only', 'todo']);
const SKIPPING_ALIASES = new Set(['xit', 'xtest', 'xdescribe', 'fit', 'fdescribe']);
const ISSUE_REFERENCE = /\bissue \d+|#\d+/i;

/** Skipped or focused tests (`it.skip`, `describe.only`, `xit`, ...) whose line, and the line above, name no issue. */
function unexplainedSkips(source: string, file = 'test.ts'): string[] {
  const sourceFile = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const lines = source.split('\n');
  const found: string[] = [];
  const walk = (node: ts.Node): void => {
    const skipping =
      (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && ['it', 'test', 'describe'].includes(node.expression.text) && SKIPPING.has(node.name.text)) ||
      (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && SKIPPING_ALIASES.has(node.expression.text));
    if (skipping) {
      const line = sourceFile.getLineAndCharacterOfPosition(node.getStart()).line;
      if (!ISSUE_REFERENCE.test(lines[line]!) && !ISSUE_REFERENCE.test(lines[line - 1] ?? '')) {
        found.push(`${relative(packageRoot(), file)}:${line + 1}: ${lines[line]!.trim()}`);
      }
    }
    ts.forEachChild(node, walk);
  };
  walk(sourceFile);
  return found;
}

describe('the checks themselves', () => {
  it('find an early return in a test body, also inside an if, but not in nested functions or at the end', () => {
    const source = [
      "it('claims something', async () => {",
      '  const handler = () => { return 1; };',
      "  if (!present) { console.log('skipped'); return; }",
      '  expect(handler()).toBe(1);',
      '});',
      "test.each([1])('n=%d', (n) => { if (n) return; expect(n).toBe(0); });",
      "it('ends with a return', () => { return expect(1).toBe(1); });",
    ].join('\n');
    expect(earlyReturns(source, join(TEST_DIR, 'x.test.ts'))).toEqual(['test/x.test.ts:3 in "claims something"', 'test/x.test.ts:6 in "n=%d"']);
  });

  it('find skipped and focused tests unless an issue is named', () => {
    const source = [
      "it.skip('a', () => {});",
      '// waits for issue 7',
      "test.skip('b', () => {});",
      'const maybe = root ? it : it.skip;',
      "describe.only('c', () => {});",
      "xit('d', () => {});",
      "it('mentions it.skip in its name only', () => {});",
    ].join('\n');
    expect(unexplainedSkips(source, join(TEST_DIR, 'x.test.ts'))).toEqual([
      "test/x.test.ts:1: it.skip('a', () => {});",
      'test/x.test.ts:4: const maybe = root ? it : it.skip;',
      "test/x.test.ts:5: describe.only('c', () => {});",
      "test/x.test.ts:6: xit('d', () => {});",
    ]);
  });
});

describe('every test file', () => {
  const files = testFiles(TEST_DIR);

  it('is read (the scan sees the unit, integration and cluster tests)', () => {
    const folders = new Set(files.map((f) => relative(TEST_DIR, f).split('/')[0]));
    expect([...folders].sort()).toEqual(['cluster', 'integration', 'unit']);
  });

  it('has no return before the end of a test body (a missing prerequisite is built or fails the test by name)', () => {
    expect(files.flatMap((file) => earlyReturns(readFileSync(file, 'utf8'), file))).toEqual([]);
  });

  it('skips or focuses no test without naming the issue that explains it', () => {
    expect(files.flatMap((file) => unexplainedSkips(readFileSync(file, 'utf8'), file))).toEqual([]);
  });
});
