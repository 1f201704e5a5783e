import {
  addonsRunning,
  defineLesson,
  deploymentAvailable,
  httpAnswers,
  ingressHasAddress,
  nodesReady,
  podsBoundToNodes,
  serviceHasReadyEndpoint,
} from '../src/index.js';

/**
 * Lesson 1, first app: `k3d cluster create yadoc-exposed -p "8081:80@loadbalancer" --agents 3`,
 * the Flask app as myapp:latest, a Deployment, a Service and an Ingress for myapp.local.
 */
export default defineLesson({
  id: 'lesson-1',
  title: 'First app: Deployment, Service and Ingress on k3d',
  summary:
    'A Flask app runs as a Deployment behind a Service; Traefik routes myapp.local on host port 8081 to it. ' +
    'kubelab sends the request to 127.0.0.1:8081 with Host: myapp.local instead of editing /etc/hosts.',
  cluster: {
    name: 'yadoc-exposed',
    servers: 1,
    agents: 3,
    ports: [{ hostPort: 8081, containerPort: 80, nodeFilter: 'loadbalancer' }],
    k3sArgs: [],
    // k3s runs both itself; on kind, kubelab applies them (the course's Ingress and HPA need them).
    addons: ['traefik', 'metrics-server'],
  },
  images: [{ app: 'hello', tag: 'myapp:latest' }],
  manifests: 'lesson-1',
  namespace: 'default',
  exercise: [],
  trace: { deployment: 'myapp', request: { port: 8081, host: 'myapp.local' } },
  assertions: [
    nodesReady(1, 3),
    deploymentAvailable('myapp', 'app=myapp'),
    podsBoundToNodes('app=myapp'),
    serviceHasReadyEndpoint('myapp-service', 5000),
    ingressHasAddress('myapp-ingress'),
    httpAnswers({ port: 8081, host: 'myapp.local', status: 200, body: 'I am watching you, Marius N' }),
    // metrics-server is lesson 2's (its HPA asserts the metrics it reads): its readiness waits for a
    // second scrape at k3s's 15 s resolution, which lesson 1 would wait for and never use.
    addonsRunning(['coredns', 'traefik', 'local-path-provisioner']),
  ],
});
