/**
 * waitFor's answer to 410 Gone, against a real HTTP server on 127.0.0.1 speaking the API server's
 * list and watch protocol: k3s cannot be made to expire a version that waitFor has just listed, so
 * this server does what kube-apiserver does then (HTTP 200, one ERROR event carrying Status 410,
 * end of stream). waitFor must list again once, watch from the new list's version, and resolve on
 * the event that watch delivers.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { connect, type Kube } from '../../src/kube/client.js';
import { waitFor } from '../../src/kube/wait.js';

const COLLECTION = '/api/v1/namespaces/default/configmaps';
/** A collection whose watch requests the server leaves unanswered until a test answers them. */
const UNANSWERED = '/api/v1/namespaces/unanswered/configmaps';
const STALE_VERSION = '10';
const FRESH_VERSION = '20';

/** Every list and watch request the server saw, in order, with the version a watch asked for. */
const requests: string[] = [];
const openWatches = new Set<ServerResponse>();
let onUnansweredWatch: ((res: ServerResponse) => void) | undefined;
let server: Server;
let dir: string;
let kube: Kube;

const event = (type: string, object: object) => `${JSON.stringify({ type, object })}\n`;
const gone = event('ERROR', {
  kind: 'Status',
  apiVersion: 'v1',
  metadata: {},
  status: 'Failure',
  message: `too old resource version: ${STALE_VERSION} (${FRESH_VERSION})`,
  reason: 'Expired',
  code: 410,
});
const signal = (ready: string, resourceVersion: string): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'signal', namespace: 'default', resourceVersion },
  data: { ready },
});

beforeAll(async () => {
  let lists = 0;
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.setHeader('content-type', 'application/json');
    if (url.pathname === UNANSWERED) {
      if (url.searchParams.get('watch') === 'true') onUnansweredWatch?.(res);
      else res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '30' }, items: [] }));
    } else if (url.pathname === '/api/v1') {
      res.end(JSON.stringify({ kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true }] }));
    } else if (url.pathname === COLLECTION && url.searchParams.get('watch') !== 'true') {
      lists += 1;
      requests.push('list');
      // The first list holds the signal not yet ready, at a version the watch will find expired.
      const items = lists === 1 ? [signal('no', STALE_VERSION)] : [signal('no', FRESH_VERSION)];
      res.end(JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: lists === 1 ? STALE_VERSION : FRESH_VERSION }, items }));
    } else if (url.pathname === COLLECTION) {
      const from = url.searchParams.get('resourceVersion') ?? '';
      requests.push(`watch from ${from}`);
      res.writeHead(200);
      if (from === STALE_VERSION) {
        res.end(gone);
        return;
      }
      openWatches.add(res);
      res.on('close', () => openWatches.delete(res));
      res.write(event('MODIFIED', signal('yes', '21')));
    } else {
      res.writeHead(404).end(JSON.stringify({ kind: 'Status', code: 404 }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  dir = await mkdtemp(join(tmpdir(), 'kubelab-it-watch-gone-'));
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  const { port } = server.address() as AddressInfo;
  await writeFile(
    kubeconfig,
    `apiVersion: v1\nkind: Config\nclusters: [{name: local, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]\n` +
      'users: [{name: nobody, user: {}}]\ncontexts: [{name: local, context: {cluster: local, user: nobody}}]\ncurrent-context: local\n',
  );
  kube = connect({ kubeconfig, context: 'local' });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

describe('waitFor settled while its watch request is unanswered', () => {
  test('closes that watch once the server answers it', async () => {
    const stop = new AbortController();
    const arrived = new Promise<ServerResponse>((resolve) => (onUnansweredWatch = resolve));
    const waiting = waitFor(kube, {
      description: 'a configmap that never appears',
      target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'unanswered' },
      until: (objects) => (objects.length > 0 ? true : undefined),
      timeoutMs: 10_000,
      signal: stop.signal,
    });
    const held = await arrived;
    stop.abort(new Error('stopped by the test'));
    await expect(waiting).rejects.toThrow('stopped by the test');
    // Now the server answers: the watch it opens belongs to a settled wait and must be closed by it.
    const closed = new Promise<boolean>((resolve) => held.once('close', () => resolve(true)));
    held.writeHead(200);
    held.flushHeaders();
    expect(await Promise.race([closed, delay(5000, false, { ref: false })])).toBe(true);
  }, 20_000);
});

describe('waitFor after 410 Gone', () => {
  test('lists again once, watches from the new version, resolves on its event and leaves no watch open', async () => {
    const version = await waitFor<V1ConfigMap, string>(kube, {
      description: 'configmap signal has ready=yes',
      target: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', fieldSelector: 'metadata.name=signal' },
      until: ([cm]) => (cm?.data?.ready === 'yes' ? cm.metadata!.resourceVersion : undefined),
      timeoutMs: 10_000,
    });
    expect(version).toBe('21');
    expect(requests).toEqual(['list', `watch from ${STALE_VERSION}`, 'list', `watch from ${FRESH_VERSION}`]);
    // Resolving aborts the watch: the server sees each connection close (bounded by a deadline).
    const closed = Promise.all([...openWatches].map((res) => new Promise((resolve) => res.once('close', resolve))));
    await Promise.race([closed, delay(5000, undefined, { ref: false })]);
    expect(openWatches.size).toBe(0);
  }, 20_000);
});
