import { EnvironmentError } from '../errors.js';
import { imageExists, inspectImage, lastLines } from '../docker/engine.js';
import { forgeImages, forgeItems } from '../forge/catalog.js';
import { RECIPE_LABEL } from './base.js';
import type { ForgeItem, ForgeOptions } from '../forge/types.js';
import { runAllowingFailure } from '../util/exec.js';

/**
 * Where each image a run needs comes from, decided here and nowhere else: the local Docker store,
 * a `docker pull` of the name a registry has it under, or the forge. `--pull` works as docker's:
 * - missing (default): local, else pull, else forge with a line saying why (the pull's error);
 * - never: local, else forge;
 * - always: pull, else local, else forge, each fallback with a line saying why.
 */
export const PULL_POLICIES = ['missing', 'never', 'always'] as const;
export type PullPolicy = (typeof PULL_POLICIES)[number];
export const DEFAULT_PULL_POLICY: PullPolicy = 'missing';

/** An image a run needs, and the ways to have it. */
export interface ImageNeed {
  /** The name kubelab uses when the image is local or forged. */
  tag: string;
  /** Names a registry has it under, tried in order by a pull; the one pulled is then used. Empty: never pulled. */
  upstream: readonly string[];
  /** Makes `tag` here; absent, the forge item whose location is `tag` does (none: it cannot be made here). */
  forge?: (options: ForgeOptions) => Promise<void>;
  /** What differs when a pulled upstream image stands in for kubelab's own build, said once it does. */
  caveat?: (pulled: string) => Promise<string | undefined>;
}

export type ImageOrigin = 'local' | 'pulled' | 'forged';

export interface ObtainedImage {
  need: ImageNeed;
  /** The name to use: `tag`, or the upstream name that was found or pulled. */
  ref: string;
  origin: ImageOrigin;
}

export interface ObtainOptions extends ForgeOptions {
  pull: PullPolicy;
}

/** The need for an image the forge makes (or, for a tag it does not know, one that can only be local or pulled). */
export function imageNeed(tag: string, items: readonly ForgeItem[] = forgeItems()): ImageNeed {
  const item = items.find((i) => i.kind === 'image' && i.location === tag);
  return { tag, upstream: item?.upstream ?? [tag], ...(item?.pullCaveat ? { caveat: item.pullCaveat } : {}) };
}

/**
 * A local image counts when the forge item that makes it says it is current, or when kubelab did not
 * make it (pulled, or the user's own): a forged image of an older recipe does not.
 */
export async function localImage(need: ImageNeed): Promise<string | undefined> {
  const item = forgeItems().find((i) => i.kind === 'image' && i.location === need.tag);
  // The usual case, kubelab's own build and current, is what the item's status says alone.
  if (item && (await item.status()).present) return need.tag;
  for (const name of [need.tag, ...need.upstream]) {
    const image = await inspectImage(name);
    if (!image) continue;
    const madeByKubelab = Object.keys(image.labels).some((key) => key.startsWith('dev.kubelab.'));
    // kubelab's build under its own tag is stale here (its status said so): an upstream name may stand in.
    if (!madeByKubelab || name !== need.tag || !item) return name;
  }
  return undefined;
}

/** `docker pull` of each upstream name in turn: the first pulled, or the last error (one line). */
async function pullUpstream(need: ImageNeed, options: ObtainOptions): Promise<{ ref?: string; error: string }> {
  let error = '';
  for (const name of need.upstream) {
    options.onLine?.(`docker pull ${name}`);
    const result = await runAllowingFailure('docker', ['pull', name], { signal: options.signal, timeoutMs: 30 * 60_000 });
    if (result.exitCode === 0 && (await imageExists(name))) return { ref: name, error: '' };
    error = `docker pull ${name}: ${lastLines(result.stderr || result.stdout, 1) || `exit ${result.exitCode}`}`;
  }
  return { error };
}

type Decision = { ref: string; origin: 'local' | 'pulled' } | { forgeBecause: string };

async function decide(need: ImageNeed, options: ObtainOptions): Promise<Decision> {
  // An image nothing upstream stands in for (kind's node image) is local or forged under any policy.
  const pulls = options.pull !== 'never' && need.upstream.length > 0;
  if (options.pull !== 'always' || !pulls) {
    const local = await localImage(need);
    if (local) return { ref: local, origin: 'local' };
    if (!pulls) return { forgeBecause: `not in the local store and ${options.pull === 'never' ? '--pull never' : 'no upstream image stands in for it'}` };
  }
  const pulled = await pullUpstream(need, options);
  if (pulled.ref) return { ref: pulled.ref, origin: 'pulled' };
  if (options.pull === 'always') {
    const local = await localImage(need);
    if (local) {
      options.onLine?.(`${local}: using the local image (--pull always, but ${pulled.error})`);
      return { ref: local, origin: 'local' };
    }
  }
  return { forgeBecause: pulled.error };
}

/**
 * Has every image of `needs` (in order) by the policy, forging the ones it must side by side
 * (forgeImages' queue), and says where each came from. Throws EnvironmentError, naming `purpose`,
 * for an image that is neither local nor pulled and that nothing here can make.
 */
export async function obtainImages(needs: readonly ImageNeed[], purpose: string, options: ObtainOptions): Promise<ObtainedImage[]> {
  // Side by side: each decision inspects the store and the forge recipe's state (a cluster's three images took 0.3-0.4 s in turn).
  const decided = await Promise.all(needs.map(async (need) => ({ need, decision: await decide(need, options) })));
  const forgeable = new Set(forgeItems().filter((i) => i.kind === 'image').map((i) => i.location));
  const toForge = decided.flatMap(({ need, decision }) => ('forgeBecause' in decision ? [{ need, why: decision.forgeBecause }] : []));
  const cannot = toForge.filter(({ need }) => !need.forge && !forgeable.has(need.tag));
  if (cannot.length > 0) {
    throw new EnvironmentError(
      `${purpose} needs ${cannot.map(({ need, why }) => `${need.tag} (${why})`).join(', ')}, which is not in the local Docker image store, ` +
        'was not pulled and is not an image kubelab forges',
      'docker pull it where a registry is reachable, or name an image kubelab forges (kubelab forge --list)',
    );
  }
  for (const { need, why } of toForge) options.onLine?.(`${need.tag}: forging it (${why})`);
  const forgeOptions: ForgeOptions = { signal: options.signal, onLine: options.onLine };
  await forgeImages(toForge.filter(({ need }) => !need.forge).map(({ need }) => need.tag), forgeOptions);
  for (const { need } of toForge) await need.forge?.(forgeOptions);

  const obtained = decided.map(({ need, decision }): ObtainedImage =>
    'forgeBecause' in decision ? { need, ref: need.tag, origin: 'forged' } : { need, ref: decision.ref, origin: decision.origin },
  );
  for (const image of obtained) {
    options.onLine?.(`${image.ref}: ${image.origin}`);
    if (image.origin !== 'forged' && image.ref !== image.need.tag) options.onLine?.(await standInNote(image));
  }
  options.onLine?.(summary(obtained));
  return obtained;
}

/** What using an upstream name instead of kubelab's own build means (nothing, when it is kubelab's build under that name). */
async function standInNote(image: ObtainedImage): Promise<string> {
  const labels = (await inspectImage(image.ref))?.labels ?? {};
  if (labels[RECIPE_LABEL]) return `note: ${image.ref} is a kubelab build (it carries ${RECIPE_LABEL}), used for ${image.need.tag}`;
  return `note: ${(await image.need.caveat?.(image.ref)) ?? `${image.ref} stands in for ${image.need.tag}`}`;
}

/** "images: 2 pulled, 1 local, nothing forged" */
export function summary(obtained: readonly ObtainedImage[]): string {
  const count = (origin: ImageOrigin) => obtained.filter((image) => image.origin === origin).length;
  const forged = count('forged');
  const parts = [`${count('pulled')} pulled`, `${count('local')} local`, forged === 0 ? 'nothing forged' : `${forged} forged`];
  return `images: ${parts.join(', ')}`;
}

/** What `obtainImages` would do for `need` without pulling or forging: for `kubelab doctor`. */
export async function plannedSource(need: ImageNeed, pull: PullPolicy): Promise<string> {
  const local = await localImage(need);
  const pullNames = need.upstream.join(' or ');
  const forgeable = need.forge !== undefined || forgeItems().some((i) => i.kind === 'image' && i.location === need.tag);
  const orForge = forgeable ? ', else forged' : ', else missing (kubelab cannot forge it)';
  if (pull === 'always' && need.upstream.length > 0) return `pulled (${pullNames})${local ? `, else local ${local}` : orForge}`;
  if (local) return `local ${local}`;
  if (pull === 'never' || need.upstream.length === 0) return forgeable ? 'forged (not local)' : 'missing (not local, kubelab cannot forge it)';
  return `pulled (${pullNames})${orForge}`;
}
