/**
 * Against the real dockerd: the local Debian bases (built once, then cached as images), the two
 * course apps built on the python base, and each app answering HTTP from a container published on
 * 127.0.0.1 with a docker-chosen ephemeral port. Images stay (they are the cache); containers go.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnvironmentError } from '../../src/errors.js';
import {
  ensureDebianImage,
  ensureNginxBase,
  ensurePythonBase,
  type BaseImageResult,
  type DebianImageRecipe,
} from '../../src/images/base.js';
import { buildImage, type BuildImageResult } from '../../src/images/build.js';
import { assertDockerAvailable, publishedPort, removeContainer, runContainer, waitForLog } from '../../src/docker/engine.js';
import { formatLoadSummary, runLoad } from '../../src/load/generator.js';
import { httpRequest } from '../../src/load/request.js';

const MINUTE = 60_000;
const run = `${process.pid}-${Date.now().toString(36)}`;
const containers: string[] = [];
const timings: string[] = [];
const tempDirs: string[] = [];

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
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
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
      // Forced: the test below claims a build, which an unchanged context would otherwise skip.
      first = await buildImage({ app, tag, baseImage: pythonBase.tag, force: true });
      note(`${app} (forced)`, first);
    }, 10 * MINUTE);

    it('builds, and skips an unchanged rebuild (same context hash)', async () => {
      expect(first.skipped).toBe(false);
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
        const res = await httpRequest({ url: `http://127.0.0.1:${port}/` });
        expect(res.status).toBe(200);
        expect(res.body).toBe('I am watching you, Marius N');

        const load = await runLoad({ url: `http://127.0.0.1:${port}/`, concurrency: 4, durationMs: 20_000, maxRequests: 400 });
        console.log(`load on ${tag}\n${formatLoadSummary(load)}`);
        expect(load.stoppedBy).toBe('count');
        expect(load.errors).toBe(0);
        expect(load.statusCounts).toEqual({ 200: 400 });
        expect(load.bodyBytes).toBe(400 * 'I am watching you, Marius N'.length);
        expect(load.latency.count).toBe(400); // every answer timed (the bands are load.test.ts's, on a server with known holds)
      }, 2 * MINUTE);

      it('rebuilds when forced', async () => {
        const forced = await buildImage({ app, tag, baseImage: pythonBase.tag, force: true });
        note(`${app} (forced, layer cache)`, forced);
        expect(forced.skipped).toBe(false);
      }, 5 * MINUTE);
    } else {
      it('serves a ~10 MB test.txt through gunicorn', async () => {
        const port = await serve(tag, app, 5000, /Listening at: http:\/\/0\.0\.0\.0:5000/);
        const res = await httpRequest({ url: `http://127.0.0.1:${port}/`, maxBodyBytes: 0, timeoutMs: 30_000 });
        expect(res.status).toBe(200);
        expect(res.bodyBytes).toBeGreaterThan(9_500_000);
        expect(res.bodyBytes).toBeLessThan(11_000_000);
        expect(Number(res.headers['content-length'])).toBe(res.bodyBytes);

        const load = await runLoad({ url: `http://127.0.0.1:${port}/`, concurrency: 2, durationMs: 60_000, maxRequests: 20 });
        console.log(`load on ${tag}\n${formatLoadSummary(load)}`);
        expect(load.errors).toBe(0);
        expect(load.statusCounts).toEqual({ 200: 20 });
        expect(load.bodyBytes).toBe(20 * res.bodyBytes);
        expect(load.latency.count).toBe(20);
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
      const res = await httpRequest({ url: `http://127.0.0.1:${port}/` });
      expect(res.status).toBe(200);
      expect(res.body).toContain('Welcome to nginx');
      const name = containers[containers.length - 1]!;
      await waitForLog(name, /"GET \/ HTTP\/1\.1" 200/, { timeoutMs: 30_000 });
    }, 2 * MINUTE);
  });
});

/** debootstrap's temp dir must go whatever happens: a failed mirror, or an abort mid-install. */
describe('base image build failures clean up', () => {
  /** debootstrap chroots and mounts /proc: without root these cannot run, and fail saying so rather than skip. */
  const requireRoot = () => {
    if (process.getuid?.() !== 0) throw new Error('needs root (debootstrap chroots and mounts /proc): run the tests as root, as scripts/test.sh does');
  };
  const probe: DebianImageRecipe = {
    repository: 'kubelab-it/probe',
    suite: 'bookworm',
    variant: 'minbase',
    packages: ['python3'],
    changes: ['CMD ["python3"]'],
  };

  /** Runs `fn` with os.tmpdir() pointing at a private dir, returns what is left in it. */
  async function leftoversOf(fn: () => Promise<unknown>): Promise<{ error: unknown; left: string[]; mounts: string[] }> {
    const dir = await mkdtemp(join(tmpdir(), 'kubelab-it-tmp-'));
    tempDirs.push(dir);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = dir;
    let error: unknown;
    try {
      await fn();
    } catch (e) {
      error = e;
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
    const mounts = mountinfo.split('\n').filter((line) => line.includes(dir));
    return { error, left: await readdir(dir), mounts };
  }

  it('an unreachable mirror is an EnvironmentError and leaves no rootfs behind', async () => {
    requireRoot();
    const { error, left, mounts } = await leftoversOf(() => ensureDebianImage(probe, { force: true, mirror: 'http://127.0.0.1:9/debian' }));
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(String((error as Error).message)).toMatch(/debootstrap bookworm from http:\/\/127\.0\.0\.1:9\/debian/);
    expect(left).toEqual([]);
    expect(mounts).toEqual([]);
  }, 2 * MINUTE);

  it('an abort while dpkg runs in the chroot stops it, unmounts and deletes the rootfs', async () => {
    requireRoot();
    const controller = new AbortController();
    const seen: string[] = [];
    const { error, left, mounts } = await leftoversOf(() =>
      ensureDebianImage(probe, {
        force: true,
        signal: controller.signal,
        onLine: (line) => {
          seen.push(line);
          if (/^I: (Unpacking|Configuring) /.test(line)) controller.abort();
        },
      }),
    );
    expect(controller.signal.aborted).toBe(true);
    expect((error as Error | undefined)?.name).toBe('AbortError');
    expect(left).toEqual([]);
    expect(mounts).toEqual([]);
  }, 10 * MINUTE);
});
