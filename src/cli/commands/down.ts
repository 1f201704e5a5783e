import { Option, type Command } from 'commander';
import { removeKubeconfig } from '../../cluster/kubeconfig-file.js';
import { deleteCluster } from '../../cluster/teardown.js';
import { MACHINE_REGISTRY_CONTAINER, removeMachineRegistry, retireMachineRegistry } from '../../cluster/machine-registry.js';
import { PROVIDERS, providerFor } from '../../cluster/registry.js';
import { EnvironmentError, InputError } from '../../errors.js';
import { allClaims, claimHolder, otherRunIsLive } from '../../lab/cluster-claim.js';
import { lessonIds, loadLesson } from '../../lab/catalog.js';
import type { CommandContext } from '../command-context.js';
import { clusterSpecFor, companionSpecsFor } from '../../lab/lesson-clusters.js';
import type { ClusterSpec } from '../../cluster/spec.js';

export function downCommand(program: Command, { signal }: CommandContext): void {
  program.command('down')
    .description("delete a lesson's cluster (or every lesson cluster kubelab knows, on every provider, with --all)")
    .argument('[lesson]', 'lesson id')
    .option('--all', "delete every lesson's cluster that exists, on k3d and on kind")
    .addOption(new Option('--provider <name>', 'provider').choices([...PROVIDERS]))
    .option('--name <cluster>', "cluster name (alone: that cluster, on k3d unless --provider says otherwise)")
    .option('--force', 'delete even a cluster a live kubelab run is using (that run then fails)')
    .option('--registry', `also remove kubelab's machine registry (${MACHINE_REGISTRY_CONTAINER}) and the images stored in it; alone, only that`)
    .action(async (id: string | undefined, flags) => {
      if (!id && !flags.all && !flags.registry && !flags.name) throw new InputError('down: name a lesson, or pass --name, --all or --registry');
      const ids = flags.all ? await lessonIds() : id ? [id] : [];
      // A lesson runs on either provider (--provider): --all looks on each one that is available.
      const providers = flags.all && !flags.provider ? PROVIDERS : [undefined];
      const targets: Array<{ spec: Pick<ClusterSpec, 'name' | 'provider'>; clusters: Array<Pick<ClusterSpec, 'name' | 'provider'>> }> = [];
      // A cluster by name alone (as `kubelab run --name` made it): on k3d unless --provider says otherwise.
      if (!id && !flags.all && flags.name) {
        const spec = { name: flags.name as string, provider: (flags.provider ?? 'k3d') as ClusterSpec['provider'] };
        targets.push({ spec, clusters: [spec] });
      }
      for (const lessonId of ids) {
        const lesson = await loadLesson(lessonId);
        for (const providerName of providers) {
          const spec = clusterSpecFor(lesson, flags.all ? { provider: flags.provider ?? providerName } : flags);
          targets.push({ spec, clusters: [spec, ...companionSpecsFor(lesson, spec)] });
        }
      }
      if (!flags.force) await refuseClaimed(targets.flatMap((t) => t.clusters.map((c) => c.name)));
      for (const { spec, clusters } of targets) {
        const provider = providerFor(spec.provider);
        if (flags.all && !flags.provider && (await provider.ensureAvailable().then(() => false, () => true))) continue;
        await provider.ensureAvailable();
        for (const cluster of clusters) {
          if (!(await provider.describe(cluster.name, { signal }))) {
            if (!flags.all) process.stdout.write(`no ${cluster.provider} cluster ${cluster.name}: nothing to delete\n`);
            continue;
          }
          await deleteCluster(provider, cluster.name, { signal });
          await removeKubeconfig(cluster.name);
          process.stdout.write(`deleted ${cluster.provider} cluster ${cluster.name}\n`);
        }
      }
      if (flags.registry) await downRegistry(Boolean(flags.force), signal);
      // The registry's container goes with the last cluster that pulled through it (its images stay).
      else if (await retireMachineRegistry(otherRunIsLive, { signal })) process.stdout.write(`stopped registry ${MACHINE_REGISTRY_CONTAINER} (its images kept)\n`);
    });
}

/** The machine registry, unless a live run may be pulling through it. */
async function downRegistry(force: boolean, signal: AbortSignal): Promise<void> {
  const live = (await Promise.all((await allClaims()).map((claim) => claimHolder(claim.cluster)))).filter((claim) => claim !== undefined);
  if (live.length > 0 && !force) {
    throw new EnvironmentError(
      `${MACHINE_REGISTRY_CONTAINER} not removed: live kubelab runs may pull through it (${live.map((h) => `pid ${h.pid}, \`kubelab ${h.command}\``).join(', ')})`,
      'wait for them to end, or kubelab down --registry --force',
    );
  }
  const removed = await removeMachineRegistry({ signal });
  process.stdout.write(removed ? `removed registry ${MACHINE_REGISTRY_CONTAINER}\n` : `no registry ${MACHINE_REGISTRY_CONTAINER}: nothing to remove\n`);
}

/** A cluster a live run is using is not deleted under it: nothing is deleted, and the runs are named. */
async function refuseClaimed(clusters: string[]): Promise<void> {
  const holders = (await Promise.all([...new Set(clusters)].map((name) => claimHolder(name)))).filter((claim) => claim !== undefined);
  if (holders.length === 0) return;
  throw new EnvironmentError(
    `in use by a live kubelab run, not deleted: ${holders.map((h) => `cluster ${h.cluster} (pid ${h.pid}, \`kubelab ${h.command}\` since ${h.since})`).join(', ')}`,
    `stop that run (Ctrl-C, or kill -INT ${holders[0]!.pid}: it deletes its clusters itself), or kubelab down --force`,
  );
}
