import { anonymousRefused, datastoreIs, defineLesson, EXTRACTED_CREDENTIALS, extractCredentials, nodesReady, podRunning, rawApiSeesPod } from '../src/index.js';

/** SQLite through kine versus embedded etcd is a choice k3s offers; kubeadm (kind) always runs etcd as a static pod. */
const K3S_DATASTORE = { providers: ['k3d'], why: "k3s's datastore choice (kine + SQLite or embedded etcd); kind always runs etcd as a static pod (lesson 4)" } as const;

/** The course's second cluster: the same topology with embedded etcd instead of SQLite (kine). */
const WITH_ETCD = 'yadoc-with-etcd';

/**
 * Lesson 3, the control plane: the API server on a fixed port (6550), called directly with the
 * certificates from the kubeconfig, and the pod seen through the raw API and through the client.
 * Beside it, `k3d cluster create yadoc-with-etcd --api-port 6551 -p "8082:80@loadbalancer"
 * --agents 3 --k3s-arg "--cluster-init@server:0"` runs embedded etcd.
 */
export default defineLesson({
  id: 'lesson-3',
  title: 'The control plane: the API server called directly with extracted certificates',
  summary:
    'kubelab decodes certificate-authority-data, client-certificate-data and client-key-data into 0600 files, ' +
    'lists the api-test pods over raw HTTPS, compares the kube-api-access volume with what the client sees, ' +
    'and shows that a call without a client certificate is refused. A second cluster on 6551 runs embedded etcd ' +
    '(its member list, from k3s) while the first keeps SQLite through kine, side by side.',
  cluster: {
    name: 'yadoc-api-exposed',
    servers: 1,
    agents: 3,
    apiPort: 6550,
    ports: [{ hostPort: 8081, containerPort: 80, nodeFilter: 'loadbalancer' }],
    k3sArgs: [],
    // k3s runs both itself; on kind, kubelab applies them (the course's Ingress and HPA need them).
    addons: ['traefik', 'metrics-server'],
  },
  companions: [
    {
      name: WITH_ETCD,
      servers: 1,
      agents: 3,
      apiPort: 6551,
      ports: [{ hostPort: 8082, containerPort: 80, nodeFilter: 'loadbalancer' }],
      k3sArgs: [{ arg: '--cluster-init', nodeFilter: 'server:0' }],
      onlyOn: K3S_DATASTORE,
    },
  ],
  images: [{ app: 'nginx', tag: 'nginx:latest' }],
  manifests: 'lesson-3',
  namespace: 'api-test',
  exercise: [
    {
      title: 'extract the CA, client certificate and key from the kubeconfig (0600 files)',
      async run(context) {
        const credentials = await extractCredentials(context.kube.config, context.workDir, context.cleanup);
        context.evidence.set(EXTRACTED_CREDENTIALS, credentials);
        context.log(`${credentials.caFile}, ${credentials.certFile}, ${credentials.keyFile}`);
      },
    },
  ],
  assertions: [
    nodesReady(1, 3),
    podRunning('nginx'),
    rawApiSeesPod('api-test', 'nginx'),
    anonymousRefused('/api/v1/namespaces/api-test/pods'),
    { ...datastoreIs('kine-sqlite', 'yadoc-api-exposed'), onlyOn: K3S_DATASTORE },
    { ...datastoreIs('embedded-etcd', WITH_ETCD, { companion: true }), onlyOn: K3S_DATASTORE },
  ],
});
