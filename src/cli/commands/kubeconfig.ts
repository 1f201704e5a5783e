import type { Command } from 'commander';
import { loadLesson } from '../../lab/catalog.js';
import { kubeconfigPath } from '../../util/paths.js';
import { clusterSpecFor } from '../../lab/lesson-clusters.js';

export function kubeconfigCommand(program: Command): void {
  program.command('kubeconfig')
    .description("print the path of a lesson cluster's kubeconfig (kubelab never edits ~/.kube/config)")
    .argument('<lesson>', 'lesson id')
    .option('--name <cluster>', 'cluster name')
    .action(async (id: string, flags) => {
      const spec = clusterSpecFor(await loadLesson(id), flags);
      process.stdout.write(kubeconfigPath(spec.name) + '\n');
    });
}
