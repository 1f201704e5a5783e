import { Option, type Command } from 'commander';
import { InputError } from '../errors.js';
import { PROVIDERS } from '../cluster/registry.js';
import { DEFAULT_PULL_POLICY, PULL_POLICIES } from '../images/image-source.js';

/**
 * The flags several commands share, declared once here: a command adds the groups it takes. What
 * the cluster and image flags mean for a lesson is lab/lesson-clusters.ts's (shared with the library).
 */

export interface ReportFlags {
  json?: boolean;
  junit?: string;
  report?: string;
  trace?: boolean;
}

export function clusterOptions(command: Command): Command {
  return command
    .addOption(new Option('--provider <name>', 'cluster provider').choices([...PROVIDERS]))
    .option('--name <cluster>', "cluster name (default: the lesson's)")
    .option('--image <ref>', 'node image (k3s for k3d, kindest/node-like for kind)');
}

export function imageOptions(command: Command): Command {
  return pullOption(command)
    .option('--base-image <ref>', "base image for the lesson apps (default: kubelab's python base or python:3.9-alpine, by --pull)")
    .option('--rebuild', 'rebuild images even when their build context is unchanged');
}

/** --pull, as docker's: where node, helper and base images come from (images/image-source.ts). */
export function pullOption(command: Command): Command {
  return command.addOption(
    new Option('--pull <policy>', 'images: missing = local, else pull, else forge; never = local, else forge; always = pull, else local or forge')
      .choices([...PULL_POLICIES])
      .default(DEFAULT_PULL_POLICY),
  );
}

export function reportOptions(command: Command): Command {
  return command
    .option('--json', 'print the report as JSON (no live progress)')
    .option('--junit <file>', 'write a JUnit XML report, one testcase per assertion')
    .option('--report <dir>', 'write a self-contained HTML report (charts, events, trace) into this directory')
    .option('--trace', "follow the lesson's Deployment hop by hop, from apply to its first answer, and print the timeline");
}

export function parseSeconds(value: string, flag: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InputError(`${flag}: "${value}" is not a whole number of seconds`);
  return Number(value) * 1000;
}
