import { requestUntil } from '../load/request.js';
import type { Assertion, Observation } from '../lab/types.js';

export interface HttpExpectation {
  /** Host port on 127.0.0.1, e.g. the load balancer's 8081. */
  port: number;
  /** Host header: how an Ingress rule is matched without editing /etc/hosts. */
  host?: string;
  path?: string;
  status: number;
  /** Exact body. */
  body?: string;
}

const RETRY_MS = 250;

/**
 * GET through the cluster's published port with a Host header. The ingress controller picks up new
 * routes asynchronously and offers nothing to watch, so the check repeats until it matches or the
 * assertion's deadline passes; the last answer is the evidence.
 */
export function httpAnswers(expect: HttpExpectation): Assertion {
  const url = `http://127.0.0.1:${expect.port}${expect.path ?? '/'}`;
  const shown = `GET ${url}${expect.host ? ` (Host: ${expect.host})` : ''}`;
  return {
    name: `${shown} answers ${expect.status}${expect.body !== undefined ? ` with "${expect.body}"` : ''}`,
    expected: `HTTP ${expect.status}${expect.body !== undefined ? `, body exactly "${expect.body}"` : ''}`,
    async check(context): Promise<Observation> {
      const result = await requestUntil({
        url,
        host: expect.host,
        timeoutMs: 5000,
        signal: context.signal,
        accept: (answer) => answer.status === expect.status && (expect.body === undefined || answer.body === expect.body),
        deadline: Date.now() + context.assertionTimeoutMs,
        retryMs: RETRY_MS,
      });
      if (!result.answer) return { pass: false, observed: `request failed: ${result.error?.message ?? 'no answer'}` };
      return { pass: result.accepted, observed: `HTTP ${result.answer.status}, body "${result.answer.body.slice(0, 120)}"` };
    },
  };
}
