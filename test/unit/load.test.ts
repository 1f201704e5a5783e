import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../src/errors.js';
import { runLoad } from '../../src/load/generator.js';
import { LatencyRecorder } from '../../src/load/latency.js';
import { assertLoopbackTarget, isLoopbackHost } from '../../src/load/loopback.js';

describe('loopback guard', () => {
  it.each(['127.0.0.1', '127.3.2.1', 'localhost', 'LOCALHOST', '[::1]', '::1', '::ffff:127.0.0.1'])('accepts %s', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });

  it.each(['10.0.0.1', '192.168.1.10', 'example.com', 'myapp.local', '128.0.0.1', '::2', '0.0.0.0', 'localhost.evil.com'])(
    'refuses %s',
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );

  it('names the flag and the host in the error', () => {
    expect(() => assertLoopbackTarget('http://example.com:8081/', '--target')).toThrow(
      /--target: "example.com" is not a loopback address/,
    );
    expect(() => assertLoopbackTarget('not a url')).toThrow(InputError);
    expect(() => assertLoopbackTarget('ftp://127.0.0.1/')).toThrow(/only http and https/);
  });
});

describe('load options are checked before any connection', () => {
  const base = { url: 'http://127.0.0.1:9/', concurrency: 1, durationMs: 1000 };
  it.each([
    [{ concurrency: 0 }, /concurrency: 0/],
    [{ concurrency: 2.5 }, /concurrency: 2.5/],
    [{ durationMs: 0 }, /durationMs: 0 .*bounded in time/],
    [{ durationMs: Infinity }, /durationMs: Infinity/],
    [{ rate: -1 }, /rate: -1/],
    [{ maxRequests: 0 }, /maxRequests: 0/],
    [{ host: 'myapp.local\r\nx-injected: 1' }, /load host: .* is not a host name/],
    [{ host: 'my app' }, /load host: .* is not a host name/],
    [{ url: 'http://10.1.2.3:8081/' }, /not a loopback address/],
  ])('%j is refused', async (override, message) => {
    await expect(runLoad({ ...base, ...override })).rejects.toThrow(message);
    await expect(runLoad({ ...base, ...override })).rejects.toBeInstanceOf(InputError);
  });
});

describe('latency recorder', () => {
  it('reports percentiles in milliseconds', () => {
    const recorder = new LatencyRecorder();
    for (let i = 1; i <= 100; i += 1) recorder.record(i);
    const s = recorder.summary();
    expect(s.count).toBe(100);
    expect(s.minMs).toBeCloseTo(1, 1);
    expect(s.p50Ms).toBeCloseTo(50, 0);
    expect(s.p90Ms).toBeCloseTo(90, 0);
    expect(s.p99Ms).toBeCloseTo(99, 0);
    expect(s.maxMs).toBeCloseTo(100, 0);
    expect(s.meanMs).toBeCloseTo(50.5, 0);
  });

  it('adds another recorder\'s values', () => {
    const first = new LatencyRecorder();
    const second = new LatencyRecorder();
    for (let i = 1; i <= 50; i += 1) first.record(i);
    for (let i = 51; i <= 100; i += 1) second.record(i);
    first.add(second);
    expect(first.count).toBe(100);
    expect(first.summary().p99Ms).toBeCloseTo(99, 0);
    expect(second.count).toBe(50);
  });

  it('is all zeros when empty and after reset', () => {
    const recorder = new LatencyRecorder();
    expect(recorder.summary().p99Ms).toBe(0);
    recorder.record(5);
    recorder.reset();
    expect(recorder.summary()).toEqual({ count: 0, minMs: 0, meanMs: 0, p50Ms: 0, p90Ms: 0, p99Ms: 0, maxMs: 0 });
  });
});
