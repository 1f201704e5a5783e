import { describe, expect, test } from '@jest/globals';
import { mebibytes, millicores, parseQuantity } from '../../src/kube/quantity.js';

describe('quantities', () => {
  test.each([
    ['250m', 250],
    ['1', 1000],
    ['0.5', 500],
    ['12345678n', 12.345678],
    ['1500u', 1.5],
  ])('cpu %s is %d millicores', (quantity, expected) => expect(millicores(quantity)).toBeCloseTo(expected, 6));
  test.each([
    ['50Mi', 50],
    ['51200Ki', 50],
    ['1Gi', 1024],
    ['1048576', 1],
    ['1M', 1e6 / 2 ** 20],
  ])('memory %s is %d MiB', (quantity, expected) => expect(mebibytes(quantity)).toBeCloseTo(expected, 6));
  test('a malformed quantity names itself', () => {
    expect(() => parseQuantity('12 cores')).toThrow('not a Kubernetes quantity: "12 cores"');
    expect(() => parseQuantity('5Xi')).toThrow(/5Xi/);
  });
});
