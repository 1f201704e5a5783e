import { constants } from 'node:fs';
import { access, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { validateClusterName } from '../cluster/spec.js';
import { InputError } from '../errors.js';

/** What `kubelab new lesson` writes: the lesson file and its manifests, under `dir`. */
export interface StarterLesson {
  /** Lesson id, file name, cluster name and the objects' name. */
  name: string;
  dir: string;
  /** Host port the cluster's load balancer publishes the Ingress on. */
  port: number;
}

/** Where a starter's files go, relative to its folder: the repository's labs/ + manifests/ layout. */
export function starterPaths(name: string): { lesson: string; manifests: string } {
  return { lesson: `${name}.ts`, manifests: join('manifests', name) };
}

/**
 * A lesson that runs green as written: nginx (kubelab's own image, nothing to build) serving a page
 * from a ConfigMap behind a Service and an Ingress, on a one-node k3d cluster of its own.
 */
export function starterFiles({ name, port }: Omit<StarterLesson, 'dir'>): Record<string, string> {
  const paths = starterPaths(name);
  const host = `${name}.local`;
  const page = `hello from ${name}`;
  const manifest = (file: string) => join(paths.manifests, file);
  return {
    [paths.lesson]: `import {
  defineLesson,
  deploymentAvailable,
  httpAnswers,
  ingressHasAddress,
  nodesReady,
  serviceHasReadyEndpoint,
} from 'kubelab';

/**
 * ${name}: nginx serves a page from a ConfigMap, behind a Service and an Ingress for ${host}.
 * Run it with \`kubelab run ./${name}.ts\` from this folder; change the manifests in
 * ${paths.manifests}/ and the assertions below, and run it again.
 */
export default defineLesson({
  id: '${name}',
  title: '${name}: a page behind a Service and an Ingress',
  summary: 'nginx serves the ConfigMap ${name}-page; Traefik routes ${host} on host port ${port} to it.',
  // A one-node k3d cluster of its own; the load balancer publishes the Ingress on 127.0.0.1:${port}.
  cluster: {
    name: '${name}',
    servers: 1,
    agents: 0,
    ports: [{ hostPort: ${port}, containerPort: 80, nodeFilter: 'loadbalancer' }],
    k3sArgs: [],
    addons: ['traefik'], // k3s runs Traefik itself; on kind (--provider kind) kubelab applies it
  },
  // kubelab's nginx image, imported into the cluster as nginx:latest (an app of yours: { app: 'folder', tag }).
  images: [{ app: 'nginx', tag: 'nginx:latest' }],
  manifests: '${paths.manifests}', // relative to this file
  namespace: 'default',
  exercise: [],
  trace: { deployment: '${name}', request: { port: ${port}, host: '${host}' } },
  assertions: [
    nodesReady(1, 0),
    deploymentAvailable('${name}', 'app=${name}'),
    serviceHasReadyEndpoint('${name}', 80),
    ingressHasAddress('${name}'),
    httpAnswers({ port: ${port}, host: '${host}', status: 200, body: '${page}' }),
  ],
});
`,
    [manifest('configmap.yaml')]: `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}-page
data:
  index.html: ${page}
`,
    [manifest('deployment.yaml')]: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    app: ${name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
        - name: nginx
          image: nginx:latest
          imagePullPolicy: IfNotPresent # imported by kubelab, never pulled
          ports:
            - containerPort: 80
          volumeMounts:
            - name: page
              mountPath: /var/www/html # the site root of kubelab's (Debian) nginx
      volumes:
        - name: page
          configMap:
            name: ${name}-page
`,
    [manifest('service.yaml')]: `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector:
    app: ${name}
  ports:
    - port: 80
      targetPort: 80
`,
    [manifest('ingress.yaml')]: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
spec:
  rules:
    - host: ${host}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: ${name}
                port:
                  number: 80
`,
  };
}

async function kindOf(path: string): Promise<'file' | 'dir' | undefined> {
  const info = await stat(path).catch(() => undefined);
  return info ? (info.isDirectory() ? 'dir' : 'file') : undefined;
}

/** `path` can receive new entries: it, or the nearest folder above it that exists, is a writable folder. */
async function assertWritable(path: string, dir: string): Promise<void> {
  let existing = path;
  while ((await kindOf(existing)) === undefined && dirname(existing) !== existing) existing = dirname(existing);
  if ((await kindOf(existing)) !== 'dir') throw new InputError(`--dir ${dir}: ${existing} is a file, not a folder`);
  await access(existing, constants.W_OK).catch(() => {
    throw new InputError(`--dir ${dir}: folder ${existing} is not writable`, 'name a folder you can write to');
  });
}

/** Every check before anything is written: the name, the folders written into, no file to overwrite. */
async function checkTargets({ name, dir }: StarterLesson): Promise<void> {
  validateClusterName(name, 'new lesson NAME'); // the name is also the cluster's
  const target = resolve(dir);
  const paths = starterPaths(name);
  await assertWritable(target, dir);
  await assertWritable(dirname(join(target, paths.manifests)), dir);
  for (const path of [paths.lesson, paths.manifests]) {
    if ((await kindOf(join(target, path))) !== undefined) {
      throw new InputError(`new lesson ${name}: ${join(dir, path)} already exists`, 'choose another NAME or --dir (kubelab never overwrites)');
    }
  }
}

/**
 * Writes the starter lesson into `dir` (made if missing) and returns the files written (absolute). Checked
 * first; a failure while writing removes what was written, so nothing is left half-made.
 */
export async function writeStarterLesson(starter: StarterLesson): Promise<string[]> {
  await checkTargets(starter);
  const target = resolve(starter.dir);
  const made: string[] = [];
  try {
    const firstNewDir = await mkdir(join(target, 'manifests'), { recursive: true });
    if (firstNewDir) made.push(firstNewDir);
    // Not recursive: it must be new, and then everything inside it is ours.
    await mkdir(join(target, starterPaths(starter.name).manifests));
    made.push(join(target, starterPaths(starter.name).manifests));
    const written: string[] = [];
    for (const [path, content] of Object.entries(starterFiles(starter))) {
      const file = join(target, path);
      await writeFile(file, content, { flag: 'wx' });
      made.push(file);
      written.push(file);
    }
    return written;
  } catch (error) {
    for (const path of made.reverse()) await rm(path, { recursive: true, force: true });
    throw error;
  }
}
