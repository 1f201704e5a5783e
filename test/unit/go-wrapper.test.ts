import { createHash } from 'node:crypto';
import { describe, expect, test } from '@jest/globals';
import { wrapperGoMod } from '../../src/forge/go-build.js';
import { goBuildIdentity } from '../../src/forge/go-tool.js';
import { kubernetesBuild } from '../../src/forge/kind/binaries.js';

describe('wrapper main modules', () => {
  test("Kubernetes' staging modules point at their published release, sample-apiserver at a local stub", () => {
    const build = kubernetesBuild('kubeadm');
    const mod = wrapperGoMod(build, build.wrapper!);
    expect(mod).toContain('require (\n\tk8s.io/kubernetes v1.32.9\n)');
    expect(mod).toContain('\tk8s.io/client-go => k8s.io/client-go v0.32.9\n');
    expect(mod).toContain('\tk8s.io/sample-apiserver => ./stub/k8s.io_sample-apiserver\n');
    expect(mod.match(/=> k8s\.io\/\S+ v0\.32\.9/g)).toHaveLength(28);
  });
  test('exclude lines and extra requirements are written as go.mod directives', () => {
    const mod = wrapperGoMod({ name: 'x', module: 'example.com/a', version: 'v1.0.0', wrapper: { require: ['example.com/b@v2.0.0'], exclude: ['example.com/c@v0.1.0'] } }, { require: ['example.com/b@v2.0.0'], exclude: ['example.com/c@v0.1.0'] });
    expect(mod).toContain('\texample.com/a v1.0.0\n\texample.com/b v2.0.0\n');
    expect(mod).toContain('exclude example.com/c v0.1.0');
  });
  test('the wrapper is part of the build identity; builds without one keep their old identity', () => {
    const plain = { name: 'k', module: 'example.com/k', version: 'v1.0.0', ldflags: ['a.B=c'] };
    // The formula before wrappers existed: a k3s binary built then is still current.
    const before = createHash('sha256').update(JSON.stringify([undefined, ['a.B=c'], undefined, undefined])).digest('hex').slice(0, 12);
    expect(goBuildIdentity(plain)).toBe(`example.com/k@v1.0.0 build:${before}`);
    expect(goBuildIdentity({ ...plain, wrapper: {} })).not.toBe(goBuildIdentity(plain));
  });
});
