import {
  defineLesson,
  deploymentAvailable,
  httpAnswers,
  ingressHasAddress,
  nodesReady,
  podsSpread,
  serviceHasReadyEndpoint,
} from 'kubelab';

/**
 * The greeter, this project's own app: two replicas behind a Service and an Ingress for
 * greeter.local, on a k3d cluster of one server and two agents. `npx kubelab run ./lesson.ts` runs it
 * from the command line; test/greeter.test.ts runs it from jest through kubelab's library API.
 */
export default defineLesson({
  id: 'greeter',
  title: 'The greeter behind an Ingress, spread over two nodes',
  cluster: {
    name: 'kubelab-example-greeter',
    servers: 1,
    agents: 2,
    ports: [{ hostPort: 8093, containerPort: 80, nodeFilter: 'loadbalancer' }],
    k3sArgs: [],
    addons: ['traefik'],
  },
  images: [{ app: 'app', tag: 'greeter:example' }],
  manifests: 'manifests',
  namespace: 'default',
  // Where `manifests` and the app resolve when a test runner imports this file as a module (the
  // `kubelab run` loader sets it to this same folder).
  home: import.meta.dirname,
  exercise: [],
  assertions: [
    nodesReady(1, 2),
    deploymentAvailable('greeter', 'app=greeter'),
    serviceHasReadyEndpoint('greeter', 8000),
    ingressHasAddress('greeter'),
    podsSpread('app=greeter', 2, 2),
    httpAnswers({ port: 8093, host: 'greeter.local', status: 200, body: 'hello from the greeter' }),
  ],
});
