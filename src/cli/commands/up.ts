import type { Command } from 'commander';
import { loadLesson } from '../../lab/catalog.js';
import { upLesson } from '../../lab/runner.js';
import { detectOutputMode } from '../../report/tasks.js';
import type { CommandContext } from '../command-context.js';
import { EXIT_CODES_HELP } from '../exit-codes-help.js';
import { clusterOptions, imageOptions } from '../options.js';
import { lessonClustersFor } from '../../lab/lesson-clusters.js';

export function upCommand(program: Command, { signal }: CommandContext): void {
  imageOptions(clusterOptions(program.command('up')
    .description("provision the lesson's cluster and import its images, apply nothing; follow the course by hand from `kubectl apply`")
    .argument('<lesson>', 'lesson id or lesson file')))
    .addHelpText('after', EXIT_CODES_HELP)
    .action(async (id: string, flags) => {
      const lesson = await loadLesson(id);
      const clusters = lessonClustersFor(lesson, flags);
      const access = await upLesson(lesson, { ...clusters, signal, output: detectOutputMode(false) });
      process.stdout.write(
        `cluster ${clusters.spec.name} is up\n  context:    ${access.context}\n  kubeconfig: ${access.kubeconfig}\n` +
          `next: export KUBECONFIG=${access.kubeconfig}; kubectl apply -f manifests/${lesson.manifests}/\n` +
          `then: kubelab verify ${lesson.id}; when done: kubelab down ${lesson.id}\n`,
      );
    });
}
