import type { HealthCheck, HealthReport } from './types.js';

/** `[+]ping ok`, `[-]etcd failed: reason withheld`, `[+]etcd excluded: ok`. */
const CHECK_LINE = /^\[([+-])\](\S+) (.+)$/;

/**
 * Parses the body of `/livez?verbose` or `/readyz?verbose`: one line per check, then a summary line
 * (`readyz check passed`, or `readyz check failed` with HTTP 500).
 */
export function parseHealth(path: string, status: number, body: string): HealthReport {
  const checks: HealthCheck[] = [];
  const other: string[] = [];
  for (const line of body.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const match = CHECK_LINE.exec(line);
    if (match) checks.push({ name: match[2]!, ok: match[1] === '+', detail: match[3]! });
    else other.push(line);
  }
  return { path, status, checks, summary: other.join(' ') || `HTTP ${status}` };
}

export function healthLine(check: HealthCheck): string {
  return `[${check.ok ? '+' : '-'}]${check.name} ${check.detail}`;
}
