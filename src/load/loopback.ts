import { isIP } from 'node:net';
import { InputError } from '../errors.js';

/**
 * kubelab only ever sends traffic to this machine (a cluster's published port), so a target that is
 * not loopback is refused before any connection is made: a typo must never turn into load on a
 * third party.
 */
export function assertLoopbackTarget(target: string, flag = 'url'): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new InputError(`${flag}: "${target}" is not a URL`, 'use e.g. http://127.0.0.1:8081/');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InputError(`${flag}: "${target}" uses ${url.protocol}; only http and https are supported`);
  }
  if (!isLoopbackHost(url.hostname)) {
    throw new InputError(
      `${flag}: "${url.hostname}" is not a loopback address; kubelab sends requests only to 127.0.0.1, ::1 or localhost`,
      'target the cluster through its published port on 127.0.0.1 and name the virtual host with a Host header',
    );
  }
  return url;
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.split('.')[0] === '127';
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(host);
  return false;
}
