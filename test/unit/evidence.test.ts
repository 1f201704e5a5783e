import { describe, expect, test } from '@jest/globals';
import { Evidence, evidenceKey } from '../../src/lab/evidence.js';

describe('Evidence', () => {
  test('a value set under a key is read back under that key only, even beside a key of the same name', () => {
    const evidence = new Evidence();
    const port = evidenceKey<number>('port');
    const otherPort = evidenceKey<string>('port');
    evidence.set(port, 8081);
    const read: number | undefined = evidence.get(port); // typed: no cast
    expect(read).toBe(8081);
    expect(evidence.get(otherPort)).toBeUndefined();
  });
});
