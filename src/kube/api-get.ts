import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { KubeConfig } from '@kubernetes/client-node';

export interface ApiAnswer {
  status: number;
  body: string;
}

/** No HTTP answer at all (refused, reset, timed out, TLS failure): the API endpoint is not reachable. */
export class ApiUnreachableError extends Error {
  constructor(
    readonly url: string,
    cause: Error,
  ) {
    super(`${url}: ${cause.message}`, { cause });
    this.name = 'ApiUnreachableError';
  }
}

/** Socket-level failures: nothing answered at the address, or the connection broke before an answer. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

/**
 * Whether an error says the API server is not answering right now (refused, reset, no answer, or 503
 * while it starts) rather than that a request was wrong: a wait may outlast the first, never the second.
 * Looks through `cause` chains: the client library wraps socket errors in its own.
 */
export function isApiUnreachable(error: unknown): boolean {
  for (let e = error as { code?: string | number; statusCode?: number; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    // statusCode: kubelab's own GETs and watches; a numeric code: the client library's ApiException.
    if (e instanceof ApiUnreachableError || e.statusCode === 503 || e.code === 503) return true;
    if (typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) return true;
  }
  return false;
}

export interface ApiGetOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * HTTP basic credentials to send instead of the kubeconfig's user (the cluster's CA still checks
   * the server): k3s's supervisor routes accept the join token as user "server".
   */
  basicAuth?: { user: string; password: string };
}

/** TLS options that trust the kubeconfig's CA and present no client identity. */
function caOnly(config: KubeConfig): RequestOptions {
  const cluster = config.getCurrentCluster();
  if (cluster?.skipTLSVerify) return { rejectUnauthorized: false };
  if (cluster?.caData) return { ca: Buffer.from(cluster.caData, 'base64') };
  if (cluster?.caFile) return { ca: readFileSync(cluster.caFile) };
  return {};
}

/**
 * GET of a path on the kubeconfig's API endpoint with its credentials (the TLS agent and headers the
 * client library configures), returning any HTTP status with its body: /readyz answers 500 with the
 * list of checks that explains it, and k3s's /db/info answers 403 or 404 in ways that are evidence.
 */
export async function apiGet(config: KubeConfig, path: string, options: ApiGetOptions): Promise<ApiAnswer> {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(path, cluster.server);
  const requestOptions: RequestOptions = { method: 'GET', timeout: options.timeoutMs, signal: options.signal, headers: { accept: 'application/json, */*' } };
  if (options.basicAuth) {
    const { user, password } = options.basicAuth;
    Object.assign(requestOptions, caOnly(config));
    requestOptions.headers = { ...requestOptions.headers, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
  } else {
    await config.applyToHTTPSOptions(requestOptions);
  }
  const send = url.protocol === 'https:' ? request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, requestOptions, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (error) => reject(new ApiUnreachableError(url.href, error)));
    });
    // `timeout` only reports idleness; ending the request turns it into an error like any other.
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs / 1000} s`)));
    req.on('error', (error) => reject(options.signal?.aborted ? error : new ApiUnreachableError(url.href, error)));
    req.end();
  });
}
