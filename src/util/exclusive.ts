const tails = new Map<string, Promise<unknown>>();

/**
 * Runs `work` once every earlier call with the same key has settled. Forge items built side by side
 * share parts (a Go module's build, a cached file, a base image): the second caller then finds the
 * part made instead of building a twin into the same temp path.
 */
export async function exclusive<T>(key: string, work: () => Promise<T>): Promise<T> {
  const current = (tails.get(key) ?? Promise.resolve()).catch(() => undefined).then(work);
  const tail = current.catch(() => undefined);
  tails.set(key, tail);
  try {
    return await current;
  } finally {
    if (tails.get(key) === tail) tails.delete(key);
  }
}
