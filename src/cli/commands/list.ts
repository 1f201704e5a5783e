import type { Command } from 'commander';
import { providerFor } from '../../cluster/registry.js';
import { KubelabError } from '../../errors.js';
import { lessonIds, loadLesson } from '../../lab/catalog.js';
import type { CommandContext } from '../command-context.js';
import { clusterSpecFor } from '../../lab/lesson-clusters.js';

export function listCommand(program: Command, { signal }: CommandContext): void {
  program.command('list')
    .description('list lessons and the clusters that exist for them')
    .action(async () => {
      const rows = ['LESSON      CLUSTER              PROVIDER  NODES      STATE'];
      for (const id of await lessonIds()) {
        const lesson = await loadLesson(id);
        const spec = clusterSpecFor(lesson, {});
        let state = 'absent';
        let nodes = `${spec.servers}+${spec.agents}`;
        try {
          const observed = await providerFor(spec.provider).describe(spec.name, { signal });
          if (observed) {
            state = 'running';
            nodes = `${observed.servers}+${observed.agents}`;
          }
        } catch (error) {
          state = `unknown (${error instanceof KubelabError ? error.message : 'error'})`;
        }
        rows.push(`${id.padEnd(11)} ${spec.name.padEnd(20)} ${spec.provider.padEnd(9)} ${nodes.padEnd(10)} ${state}`);
        rows.push(`            ${lesson.title}`);
      }
      process.stdout.write(rows.join('\n') + '\n');
    });
}
