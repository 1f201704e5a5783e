/**
 * What a run needs is checked before any work starts: report targets it could not write, and an
 * API server that does not answer (one environment error, exit 3, instead of every assertion
 * failing on its own). The built CLI runs as a real process against real sockets on loopback.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { packageRoot } from '../../src/util/paths.js';

const cli = join(packageRoot(), 'bin', 'kubelab.js');
const MINUTE = 60_000;
let home: string;

async function kubelab(args: string[]) {
  const result = await execa(process.execPath, [cli, ...args], { reject: false, env: { KUBELAB_HOME: home, CI: 'true' }, timeout: 60_000 });
  return { code: result.exitCode, stderr: String(result.stderr), stdout: String(result.stdout) };
}

/** A port nothing listens on: the OS hands out a free one, which is closed again at once. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function kubeconfigFor(server: string): Promise<string> {
  const file = join(home, `kubeconfig-${server.replace(/\W/g, '_')}.yaml`);
  await writeFile(
    file,
    // client-node speaks plain HTTP only to a cluster marked insecure.
    `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "${server}"${server.startsWith('http:') ? ', insecure-skip-tls-verify: true' : ''}}}]\n` +
      'users: [{name: u, user: {token: not-a-real-token}}]\ncontexts: [{name: real, context: {cluster: c, user: u}}]\ncurrent-context: real\n',
  );
  return file;
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'kubelab-early-checks-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('report targets are checked before the lesson starts (exit 2, nothing provisioned)', () => {
  test.each([
    ['--junit', 'missing/report.xml', /--junit: .*missing\/report\.xml: folder .*missing does not exist/],
    ['--junit', '', /--junit: \/tmp\/kubelab-early-checks-\w+ is a folder; name the XML file to write/],
    ['--report', 'a-file', /--report: .*a-file is a file; name the folder/],
    ['--report', 'a-file/html', /--report: .*a-file\/html cannot be created: .*a-file is a file/],
  ])('run lesson-1 %s %s', async (flag, target, message) => {
    await writeFile(join(home, 'a-file'), 'not a folder\n');
    const path = join(home, target);
    const result = await kubelab(['run', 'lesson-1', flag, path]);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(2);
    // Refused before the task list started: nothing was provisioned or built.
    expect(result.stdout).not.toMatch(/provision|build|forg/);
  }, MINUTE);
});

describe('an API server that does not answer is one environment error (exit 3)', () => {
  let refusing: Server;
  let refusingUrl: string;

  beforeAll(async () => {
    // A real HTTP endpoint that rejects every credential, as an API server does for a stale token.
    refusing = createHttpServer((_req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"kind":"Status","code":401}'));
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    refusingUrl = `http://127.0.0.1:${(refusing.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => refusing.close(() => resolve())));

  test('verify against a closed port names the server and the kubeconfig, and runs no assertion', async () => {
    const port = await closedPort();
    const kubeconfig = await kubeconfigFor(`https://127.0.0.1:${port}`);
    const result = await kubelab(['verify', 'lesson-1', '--kubeconfig', kubeconfig]);
    expect(result.stderr).toMatch(new RegExp(`cannot reach the API server https://127\\.0\\.0\\.1:${port} \\(context real in .*\\): .*ECONNREFUSED`));
    expect(result.stderr).toMatch(/fix: is the cluster running\?/);
    expect(result.stdout + result.stderr).not.toMatch(/FAIL|passed/);
    expect(result.code).toBe(3);
  }, MINUTE);

  test('verify against a server that refuses the credentials says so', async () => {
    const kubeconfig = await kubeconfigFor(refusingUrl);
    const result = await kubelab(['verify', 'lesson-1', '--kubeconfig', kubeconfig]);
    expect(result.stderr).toContain(`the API server ${refusingUrl} refused the credentials of context real in ${kubeconfig}: HTTP 401`);
    expect(result.code).toBe(3);
  }, MINUTE);
});
