import { describe, expect, test } from '@jest/globals';
import { parseRegistry, pushTarget } from '../../src/images/push.js';
import { canonicalImage, pinImages } from '../../src/kube/pin-images.js';
import { parseManifests } from '../../src/kube/manifests.js';
import { existingTargetOf } from '../../src/lab/existing-cluster.js';

const PUSHED = new Map([
  ['myapp:latest', 'localhost:5001/kubelab/myapp@sha256:aaaa'],
  ['nginx:latest', 'localhost:5001/kubelab/nginx@sha256:bbbb'],
]);

const manifests = parseManifests(
  `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      initContainers:
        - {name: setup, image: docker.io/library/nginx, imagePullPolicy: Never}
      containers:
        - name: app
          image: myapp:latest
          imagePullPolicy: Never
          env: [{name: image, value: myapp:latest}]
        - {name: sidecar, image: busybox:1.36, imagePullPolicy: Never}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "@daily"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: job, image: myapp, imagePullPolicy: Always}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: notes}
data: {image: myapp:latest}
`,
  'web.yaml',
);

describe('pinImages: the built images by their pushed digest', () => {
  const [deployment, cronJob, configMap] = pinImages(manifests, PUSHED).map((m) => m.body as Record<string, any>);

  test('containers and init containers of a pod template, whatever spelling names the image', () => {
    const pod = deployment!.spec.template.spec;
    expect(pod.containers[0]).toMatchObject({ image: 'localhost:5001/kubelab/myapp@sha256:aaaa', imagePullPolicy: 'IfNotPresent' });
    expect(pod.initContainers[0]).toMatchObject({ image: 'localhost:5001/kubelab/nginx@sha256:bbbb', imagePullPolicy: 'IfNotPresent' });
  });

  test('an image kubelab did not build keeps its reference and its pull policy', () => {
    expect(deployment!.spec.template.spec.containers[1]).toEqual({ name: 'sidecar', image: 'busybox:1.36', imagePullPolicy: 'Never' });
  });

  test('a pod spec deeper down (CronJob) is found; a pull policy other than Never is kept', () => {
    expect(cronJob!.spec.jobTemplate.spec.template.spec.containers[0]).toEqual({ name: 'job', image: 'localhost:5001/kubelab/myapp@sha256:aaaa', imagePullPolicy: 'Always' });
  });

  test('strings that are not a container\'s image stay as written', () => {
    expect(deployment!.spec.template.spec.containers[0].env).toEqual([{ name: 'image', value: 'myapp:latest' }]);
    expect(configMap!.data).toEqual({ image: 'myapp:latest' });
  });

  test('the manifests given are not changed', () => {
    expect((manifests[0]!.body as Record<string, any>).spec.template.spec.containers[0].image).toBe('myapp:latest');
  });
});

describe('image and registry names', () => {
  test.each([
    ['nginx', 'library/nginx:latest'],
    ['docker.io/library/nginx:latest', 'library/nginx:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['rancher/k3s:v1.32.0-k3s1', 'rancher/k3s:v1.32.0-k3s1'],
    ['nginx@sha256:abc', 'library/nginx@sha256:abc'],
  ])('canonicalImage(%s) = %s', (image, canonical) => {
    expect(canonicalImage(image)).toBe(canonical);
  });

  test.each([
    ['myapp:latest', 'localhost:5001/kubelab/myapp:latest'],
    ['nginx', 'localhost:5001/kubelab/nginx:latest'],
    ['ghcr.io/team/tool:1.2', 'localhost:5001/kubelab/team/tool:1.2'],
    ['team/tool:1.2', 'localhost:5001/kubelab/team/tool:1.2'],
  ])('pushTarget(%s) = %s', (image, target) => {
    expect(pushTarget(image, 'localhost:5001')).toBe(target);
  });

  test.each(['localhost:5001', '127.0.0.1:5000', 'registry.example.com/team', 'registry.example.com/', '[::1]:5000'])('--registry %s is accepted', (value) => {
    expect(parseRegistry(value)).toBe(value.replace(/\/$/, ''));
  });

  test.each(['http://localhost:5001', 'localhost:5001/myapp:latest', 'Registry:5000', '', 'localhost:port'])('--registry %j names the flag', (value) => {
    expect(() => parseRegistry(value)).toThrow(/^--registry: ".*" is not a registry address$/);
  });
});

describe('existingTargetOf: a run into the user\'s cluster or into one kubelab makes', () => {
  const cli = { namedBy: '--kubeconfig/--context', makeOptions: [] as string[] };

  test('no cluster named: kubelab makes one, and a registry is refused naming the option', () => {
    expect(existingTargetOf({ ...cli, named: false })).toBeUndefined();
    expect(() => existingTargetOf({ ...cli, named: false, registry: { option: '--registry', value: 'localhost:5001' } })).toThrow(
      '--registry is for a cluster kubelab did not make (with --kubeconfig/--context)',
    );
  });

  test('a cluster named: options of a made cluster are refused, the first named', () => {
    expect(() => existingTargetOf({ named: true, namedBy: 'kubeconfig', makeOptions: ['clusterName', 'provider'] })).toThrow(
      'clusterName describes a cluster kubelab makes: with kubeconfig the cluster is yours, drop clusterName',
    );
  });

  test('a cluster named: its registry parsed, or refused naming the option as the caller spells it', () => {
    expect(existingTargetOf({ ...cli, named: true })).toEqual({});
    expect(existingTargetOf({ ...cli, named: true, registry: { option: '--registry', value: 'localhost:5001/' } })).toEqual({ registry: 'localhost:5001' });
    expect(() => existingTargetOf({ ...cli, named: true, registry: { option: 'registry', value: 'http://x' } })).toThrow('registry: "http://x" is not a registry address');
  });
});
