/**
 * Against the real dockerd: the local Debian bases (built once, then cached as images), the two
 * course apps built on the python base, and each app answering HTTP from a container published on
 * 127.0.0.1 with a docker-chosen ephemeral port. Images stay (they are the cache); containers go.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { ensureNginxBase, ensurePythonBase, type BaseImageResult } from '../../src/images/base.js';
import { buildImage, type BuildImageResult } from '../../src/images/build.js';
import { assertDockerAvailable, publishedPort, removeContainer, runContainer, waitForLog } from '../../src/images/docker.js';

const MINUTE = 60_000;
const run = `${process.pid}-${Date.now().toString(36)}`;
const containers: string[] = [];
const timings: string[] = [];

interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(port: number, path = '/'): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET 127.0.0.1:${port}${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Starts `image` with its port published on 127.0.0.1, waits for its listening line, returns the host port. */
async function serve(image: string, label: string, containerPort: number, listening: RegExp, command?: string[]): Promise<number> {
  const name = `kubelab-it-${label}-${run}`;
  containers.push(name); // registered before it exists: a half-created container is removed too
  await runContainer({
    image,
    name,
    ports: [{ host: '127.0.0.1', containerPort }],
    labels: { 'dev.kubelab.test': 'images' },
    command,
  });
  await waitForLog(name, listening, { timeoutMs: MINUTE });
  return publishedPort(name, containerPort);
}

function note(what: string, result: BaseImageResult | BuildImageResult): void {
  const mb = (result.sizeBytes / 1e6).toFixed(1);
  timings.push(`${what}: ${result.skipped ? 'skipped (cached)' : 'built'} in ${(result.durationMs / 1000).toFixed(1)} s, ${mb} MB (${result.tag})`);
}

afterAll(async () => {
  const failures: string[] = [];
  for (const name of containers) {
    await removeContainer(name).catch((error: unknown) => failures.push(`${name}: ${String(error)}`));
  }
  if (timings.length > 0) console.log(`image timings\n  ${timings.join('\n  ')}`);
  if (failures.length > 0) throw new Error(`could not remove containers:\n${failures.join('\n')}`);
}, 2 * MINUTE);

describe('local images on the real dockerd', () => {
  let pythonBase: BaseImageResult;

  beforeAll(async () => {
    await assertDockerAvailable();
    // Slow only the first time on a machine (debootstrap, ~1 min); then a cached image.
    pythonBase = await ensurePythonBase();
    note('python base', pythonBase);
  }, 15 * MINUTE);

  it('reuses the python base when its recipe has not changed', async () => {
    const again = await ensurePythonBase();
    note('python base (again)', again);
    expect(again.skipped).toBe(true);
    expect(again.imageId).toBe(pythonBase.imageId);
    expect(again.tag).toMatch(/^kubelab\/python-flask:[0-9a-f]{12}$/);
  });

  describe.each([
    ['hello', 'kubelab-it/hello:latest'],
    ['file-server', 'kubelab-it/file-server:latest'],
  ])('apps/%s', (app, tag) => {
    let first: BuildImageResult;

    beforeAll(async () => {
      first = await buildImage({ app, tag, baseImage: pythonBase.tag });
      note(`${app}`, first);
    }, 10 * MINUTE);

    it('builds, and skips an unchanged rebuild (same context hash)', async () => {
      expect(first.imageId).toMatch(/^sha256:/);
      const second = await buildImage({ app, tag, baseImage: pythonBase.tag });
      note(`${app} (again)`, second);
      expect(second.skipped).toBe(true);
      expect(second.imageId).toBe(first.imageId);
      expect(second.contextHash).toBe(first.contextHash);
    });

    if (app === 'hello') {
      it('answers 200 with exactly the course text', async () => {
        const port = await serve(tag, app, 5000, /Running on http/);
        const res = await get(port);
        expect(res.status).toBe(200);
        expect(res.body.toString('utf8')).toBe('I am watching you, Marius N');
      }, 2 * MINUTE);

      it('rebuilds when forced', async () => {
        const forced = await buildImage({ app, tag, baseImage: pythonBase.tag, force: true });
        note(`${app} (forced, layer cache)`, forced);
        expect(forced.skipped).toBe(false);
      }, 5 * MINUTE);
    } else {
      it('serves a ~10 MB test.txt through gunicorn', async () => {
        const port = await serve(tag, app, 5000, /Listening at: http:\/\/0\.0\.0\.0:5000/);
        const res = await get(port);
        expect(res.status).toBe(200);
        expect(res.body.length).toBeGreaterThan(9_500_000);
        expect(res.body.length).toBeLessThan(11_000_000);
        expect(Number(res.headers['content-length'])).toBe(res.body.length);
      }, 2 * MINUTE);
    }
  });

  describe('nginx base', () => {
    let nginx: BaseImageResult;
    beforeAll(async () => {
      nginx = await ensureNginxBase();
      note('nginx base', nginx);
    }, 15 * MINUTE);

    it('serves the default page on port 80 and logs requests to stdout', async () => {
      expect((await ensureNginxBase()).skipped).toBe(true);
      const port = await serve(nginx.tag, 'nginx', 80, /start worker process/);
      const res = await get(port, '/');
      expect(res.status).toBe(200);
      expect(res.body.toString('utf8')).toContain('Welcome to nginx');
      const name = containers[containers.length - 1]!;
      await waitForLog(name, /"GET \/ HTTP\/1\.1" 200/, { timeoutMs: 30_000 });
    }, 2 * MINUTE);
  });
});
