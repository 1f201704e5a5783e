import type { Command } from 'commander';
import { isAbsolute, relative } from 'node:path';
import { parsePort } from '../../cluster/spec.js';
import { starterPaths, writeStarterLesson } from '../../lab/starter-lesson.js';

/** A free-looking default: the course's lessons publish 8081 and 8082. */
const DEFAULT_PORT = '8090';

export function newCommand(program: Command): void {
  program.command('new')
    .description('write a starter for something of your own')
    .command('lesson')
    .description('write a starter lesson (NAME.ts importing only from \'kubelab\', and manifests/NAME/) that runs green as written with `kubelab run ./NAME.ts`')
    .argument('<NAME>', 'the lesson id, file name and cluster name: 1-32 lowercase letters, digits and dashes')
    .option('--dir <dir>', 'folder to write into (made if missing)', '.')
    .option('--port <port>', "host port the lesson's cluster publishes its Ingress on", DEFAULT_PORT)
    .action(async (name: string, flags: { dir: string; port: string }) => {
      const port = parsePort(flags.port, '--port');
      const written = await writeStarterLesson({ name, dir: flags.dir, port });
      const shown = (file: string) => relative(process.cwd(), file);
      // Written as a path (./lessons/NAME.ts), the way a lesson file is named to kubelab run.
      const lesson = shown(written.find((file) => file.endsWith(starterPaths(name).lesson))!);
      const runnable = isAbsolute(lesson) || lesson.startsWith('.') ? lesson : `./${lesson}`;
      process.stdout.write(written.map((file) => `wrote ${shown(file)}\n`).join('') + `run it: kubelab run ${runnable}\n`);
    });
}
