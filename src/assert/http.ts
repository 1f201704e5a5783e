import { httpRequest } from '../load/request.js';
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
      const deadline = Date.now() + context.assertionTimeoutMs;
      let last: Observation = { pass: false, observed: 'no answer yet' };
      for (;;) {
        try {
          const answer = await httpRequest({ url, host: expect.host, timeoutMs: 5000, signal: context.signal });
          const pass = answer.status === expect.status && (expect.body === undefined || answer.body === expect.body);
          last = { pass, observed: `HTTP ${answer.status}, body "${answer.body.slice(0, 120)}"` };
        } catch (error) {
          if (context.signal.aborted) throw error;
          last = { pass: false, observed: `request failed: ${(error as Error).message}` };
        }
        if (last.pass || Date.now() + RETRY_MS > deadline) return last;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
    },
  };
}
