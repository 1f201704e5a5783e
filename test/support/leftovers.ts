import { execa } from 'execa';

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

/** Volumes no container uses: a cluster's anonymous node volumes left behind show up here. */
export async function danglingVolumes(): Promise<string[]> {
  const { stdout } = await execa('docker', ['volume', 'ls', '--quiet', '--filter', 'dangling=true']);
  return stdout.split('\n').filter(Boolean);
}
