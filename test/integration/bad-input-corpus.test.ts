/**
 * The bad-input corpus: every command fed what users get wrong (and what hostile files hold), run as
 * the built CLI. Each case gets its documented exit code, one message naming the file, field or
 * flag, no stack trace, and leaves nothing behind (temp dirs, state).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';

const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
let home: string;
let files: string;
let closedPort: number;

/** Manifests users and attackers write, each in its own folder for --manifests. */
const MANIFESTS: Record<string, string> = {
  tabs: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: web\n',
  'alias-bomb': ['a: &a [x,x,x,x,x,x,x,x,x]', ...'bcdefghij'.split('').map((l, i) => `${l}: &${l} [${Array(9).fill(`*${'abcdefghij'[i]}`).join(',')}]`)].join('\n') + '\n',
  'unknown-alias': 'apiVersion: v1\nkind: ConfigMap\nmetadata: *nothing\n',
  'no-name': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels: {}\nspec: {}\n',
  'no-kind': 'apiVersion: v1\nmetadata: {name: web}\n',
  'numeric-apiversion': 'apiVersion: 1\nkind: ConfigMap\nmetadata: {name: web}\n',
  'top-level-list': '- apiVersion: v1\n  kind: ConfigMap\n',
  'namespace-number': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web, namespace: 42}\n',
  'second-document-broken': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: [b}\n',
  'comments-only': '# nothing here\n---\n# nor here\n',
  'duplicate-key': 'apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: {name: web}\n',
  binary: '\u0000\u0001\u0002apiVersion\u0000: v1\n',
};

/** [command line, exit code, message]; `@x` in an argument is a path under the test's files dir. */
const CORPUS: Array<[string[], number, RegExp]> = [
  [['run', 'lesson-9'], 2, /unknown lesson "lesson-9"/],
  [['run'], 2, /name a lesson to run \(e\.g\. lesson-1\), several, or --all/],
  [['run', 'lesson-1', 'lesson-9', 'lesson-2'], 2, /unknown lesson "lesson-9"/],
  [['run', 'lesson-1', 'lesson-2', './missing-lesson.ts'], 2, /lesson file \.\/missing-lesson\.ts does not exist/],
  [['run', '--all', 'lesson-1'], 2, /--all runs every built-in lesson: drop lesson-1, or drop --all/],
  [['run', 'lesson-1', 'lesson-2', '--manifests', '@empty'], 2, /--manifests replaces one lesson's manifests: run that lesson alone/],
  [['run', '--all', '--name', 'mine'], 2, /--name renames one lesson's cluster: run that lesson alone/],
  [['run', 'lesson-1', 'lesson-2', '--junit', '@missing/report.xml'], 2, /--junit: .*missing\/report\.xml: folder .*missing does not exist/],
  [['run', '../package'], 2, /lesson file \.\.\/package does not exist/],
  [['run', 'my-lesson.ts'], 2, /lesson file my-lesson\.ts does not exist/],
  [['run', 'lesson-1', '--frobnicate'], 2, /unknown option '--frobnicate'/],
  [['run', 'lesson-1', '--provider', 'minikube'], 2, /--provider.*minikube/],
  [['run', 'lesson-1', '--pull', 'sometimes'], 2, /--pull <policy>.*sometimes.*missing, never, always/],
  [['up', 'lesson-1', '--pull', ''], 2, /--pull <policy>/],
  [['doctor', '--pull', 'ALWAYS'], 2, /--pull <policy>.*ALWAYS/],
  [['run', 'lesson-1', '--timeout', 'soon'], 2, /--timeout: "soon" is not a whole number of seconds/],
  [['run', 'lesson-1', '--timeout', '0'], 2, /--timeout: "0" is not a whole number of seconds/],
  [['run', 'lesson-1', '--timeout', '-5'], 2, /--timeout: "-5" is not a whole number of seconds/],
  [['run', 'lesson-1', '--name', 'Bad_Name'], 2, /--name: "Bad_Name" is not a valid cluster name/],
  [['run', 'lesson-1', '--name', 'x'.repeat(40)], 2, /--name: "x{40}" is not a valid cluster name/],
  [['run', 'lesson-1', '--manifests', '/nonexistent/manifests'], 2, /--manifests: \/nonexistent\/manifests does not exist/],
  [['run', 'lesson-1', '--manifests', '@empty'], 2, /--manifests: .*empty holds no \.yaml or \.yml files/],
  [['run', 'lesson-1', '--manifests', '@comments-only'], 2, /--manifests: .*comments-only holds no Kubernetes objects/],
  [['run', 'lesson-1', '--manifests', '@tabs'], 2, /tabs\/m\.yaml:4: invalid YAML: /],
  [['run', 'lesson-1', '--manifests', '@alias-bomb'], 2, /alias-bomb\/m\.yaml:1: invalid YAML: .*alias/i],
  [['run', 'lesson-1', '--manifests', '@unknown-alias'], 2, /unknown-alias\/m\.yaml:\d+: invalid YAML: .*alias/i],
  [['run', 'lesson-1', '--manifests', '@no-name'], 2, /no-name\/m\.yaml:1: field "metadata\.name" is missing \(Deployment\)/],
  [['run', 'lesson-1', '--manifests', '@no-kind'], 2, /no-kind\/m\.yaml:1: field "kind" is missing or not a string/],
  [['run', 'lesson-1', '--manifests', '@numeric-apiversion'], 2, /numeric-apiversion\/m\.yaml:1: field "apiVersion" is missing or not a string/],
  [['run', 'lesson-1', '--manifests', '@top-level-list'], 2, /top-level-list\/m\.yaml:1: a manifest must be a mapping/],
  [['run', 'lesson-1', '--manifests', '@namespace-number'], 2, /namespace-number\/m\.yaml:1: field "metadata\.namespace" must be a string/],
  [['run', 'lesson-1', '--manifests', '@second-document-broken'], 2, /second-document-broken\/m\.yaml:7: invalid YAML: /],
  [['run', 'lesson-1', '--manifests', '@duplicate-key'], 2, /duplicate-key\/m\.yaml:3: invalid YAML: .*unique/i],
  [['run', 'lesson-1', '--manifests', '@binary'], 2, /binary\/m\.yaml:1: field "apiVersion" is missing or not a string/],
  [['run', 'lesson-1', '--junit', '@missing/report.xml'], 2, /--junit: .*missing\/report\.xml: folder .*missing does not exist/],
  [['run', 'lesson-1', '--report', '@a-file'], 2, /--report: .*a-file is a file; name the folder/],
  [['up', 'lesson-9'], 2, /unknown lesson "lesson-9"/],
  [['up', 'lesson-1', '--name', '-leading-dash'], 2, /--name: "-leading-dash" is not a valid cluster name/],
  [['verify', 'lesson-1', '--kubeconfig', '/nonexistent/kubeconfig'], 2, /--kubeconfig: \/nonexistent\/kubeconfig does not exist/],
  [['verify', 'lesson-1', '--kubeconfig', '@garbage.yaml'], 2, /--kubeconfig: .*garbage\.yaml is not a kubeconfig/],
  [['verify', 'lesson-1', '--kubeconfig', '@closed.yaml', '--context', 'imaginary'], 2, /--context: "imaginary" is not in .*closed\.yaml \(contexts: real\)/],
  [['verify', 'lesson-1', '--kubeconfig', '@closed.yaml', '--timeout', 'x'], 2, /--timeout: "x" is not a whole number of seconds/],
  [['verify', 'lesson-1', '--kubeconfig', '@closed.yaml'], 3, /cannot reach the API server https:\/\/127\.0\.0\.1:\d+ \(context real in .*closed\.yaml\): .*ECONNREFUSED/],
  [['inspect', '--kubeconfig', '/nonexistent/kubeconfig'], 2, /--kubeconfig: \/nonexistent\/kubeconfig does not exist/],
  [['inspect', '--kubeconfig', '@closed.yaml'], 3, /cannot reach the API server https:\/\/127\.0\.0\.1:\d+/],
  [['inspect', '--provider', 'minikube', 'lesson-1'], 2, /--provider.*minikube/],
  [['down'], 2, /down: name a lesson, or pass --name, --all or --registry/],
  [['down', 'lesson-9'], 2, /unknown lesson "lesson-9"/],
  [['kubeconfig', 'lesson-9'], 2, /unknown lesson "lesson-9"/],
  [['forge', 'no-such-item'], 2, /forge: unknown item "no-such-item"/],
  [['forge', '--jobs', '0'], 2, /forge: --jobs 0 is not a whole number of at least 1/],
  [['forge', '--jobs', 'many', '--list'], 2, /forge: --jobs many is not a whole number of at least 1/],
  [['frobnicate'], 2, /unknown command 'frobnicate'/],
];

function resolveArg(arg: string): string {
  return arg.startsWith('@') ? join(files, arg.slice(1)) : arg;
}

/** What the CLI left: its temp dirs (it runs with its own TMPDIR) and its state dir. */
async function leftovers(): Promise<string[]> {
  const temps = await readdir(join(home, 'tmp'));
  const state = (await readdir(home)).filter((f) => f !== 'tmp');
  return [...temps.map((f) => `tmp:${f}`), ...state.map((f) => `state:${f}`)].sort();
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'kubelab-corpus-home-'));
  await mkdir(join(home, 'tmp'));
  files = await mkdtemp(join(tmpdir(), 'kubelab-corpus-files-'));
  for (const [name, text] of Object.entries(MANIFESTS)) {
    await mkdir(join(files, name));
    await writeFile(join(files, name, 'm.yaml'), text);
  }
  await mkdir(join(files, 'empty'));
  await writeFile(join(files, 'a-file'), 'not a folder\n');
  await writeFile(join(files, 'garbage.yaml'), 'clusters: [unclosed\n');
  closedPort = await new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
  await writeFile(
    join(files, 'closed.yaml'),
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:${closedPort}"}}]\n` +
      'users: [{name: u, user: {token: t}}]\ncontexts: [{name: real, context: {cluster: c, user: u}}]\ncurrent-context: real\n',
  );
});

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
  await rm(files, { recursive: true, force: true });
});

describe(`bad input corpus (${CORPUS.length} cases)`, () => {
  test.each(CORPUS)('kubelab %j -> exit %d', async (args, code, message) => {
    const result = await execa(process.execPath, [cli, ...args.map(resolveArg)], {
      reject: false,
      env: { KUBELAB_HOME: home, TMPDIR: join(home, 'tmp'), CI: 'true' },
      timeout: MINUTE,
    });
    const stderr = String(result.stderr);
    expect(stderr).toMatch(message);
    // One message, not a trace: no "    at fn (file:line)" frames.
    expect(stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?$/m);
    expect(result.exitCode).toBe(code);
    expect(await leftovers()).toEqual([]);
  }, MINUTE);
});
