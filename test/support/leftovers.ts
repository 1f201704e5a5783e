import { execa } from 'execa';
import { MACHINE_REGISTRY_CONTAINER, MACHINE_REGISTRY_DATA } from '../../src/cluster/machine-registry.js';

/** What a k3d cluster left in Docker: its containers, volumes and networks, as "kind name" lines. */
export async function clusterLeftovers(cluster: string): Promise<string[]> {
  const filter = ['--filter', `label=k3d.cluster=${cluster}`];
  const listings = await Promise.all([
    execa('docker', ['ps', '-a', ...filter, '--format', 'container {{.Names}}']),
    execa('docker', ['volume', 'ls', ...filter, '--format', 'volume {{.Name}}']),
    // k3d labels its networks app=k3d only, not with the cluster: found by name.
    execa('docker', ['network', 'ls', '--filter', `name=^k3d-${cluster}$`, '--format', 'network {{.Name}}']),
  ]);
  return listings.flatMap((r) => r.stdout.split('\n').filter(Boolean));
}

/** What a kind cluster left in Docker: its node containers, and kubelab's kind network once no kubelab kind cluster is left. */
export async function kindClusterLeftovers(cluster: string): Promise<string[]> {
  const nodes = await execa('docker', ['ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${cluster}`, '--format', 'container {{.Names}}']);
  const network = await execa('docker', ['network', 'ls', '--filter', 'name=^kubelab-kind$', '--format', 'network {{.Name}}']);
  return [...nodes.stdout.split('\n'), ...network.stdout.split('\n')].filter(Boolean);
}

/**
 * Volumes no container uses: a cluster's anonymous node volumes left behind show up here. The
 * registry's image volume is kept between its containers by design (`kubelab down --registry` removes it).
 */
export async function danglingVolumes(): Promise<string[]> {
  const { stdout } = await execa('docker', ['volume', 'ls', '--quiet', '--filter', 'dangling=true']);
  return stdout.split('\n').filter((volume) => volume && volume !== MACHINE_REGISTRY_DATA);
}

/** Whether kubelab's machine registry has a container, running or not. */
export async function registryContainerExists(): Promise<boolean> {
  return (await execa('docker', ['inspect', MACHINE_REGISTRY_CONTAINER], { reject: false })).exitCode === 0;
}
