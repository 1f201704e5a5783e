import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import type { V1PodList } from '@kubernetes/client-node';
import { extractCredentials, type ExtractedCredentials } from '../kube/credentials.js';
import { evidenceKey } from '../lab/evidence.js';
import type { Assertion, LessonContext } from '../lab/types.js';

const LOCAL_API = /^https:\/\/(127\.\d+\.\d+\.\d+|0\.0\.0\.0|localhost)(:\d+)?$/;

/** A curl-like HTTPS GET to the API server with (or without) the extracted client certificate. */
export async function rawGet(credentials: ExtractedCredentials, path: string, withClientCert: boolean): Promise<{ status: number; body: string }> {
  if (!LOCAL_API.test(credentials.server)) throw new Error(`refusing a raw call to ${credentials.server}: not a local cluster`);
  const agent = new Agent({
    connect: {
      ca: await readFile(credentials.caFile),
      ...(withClientCert ? { cert: await readFile(credentials.certFile), key: await readFile(credentials.keyFile) } : {}),
    },
  });
  try {
    const response = await request(new URL(path, credentials.server), { dispatcher: agent, headersTimeout: 10_000, bodyTimeout: 10_000 });
    return { status: response.statusCode, body: await response.body.text() };
  } finally {
    await agent.close();
  }
}

/** Extractions made for a context whose exercise did not run, one per context. */
/** Set by a lesson's exercise that extracted the kubeconfig's certificates: the raw calls use those files. */
export const EXTRACTED_CREDENTIALS = evidenceKey<ExtractedCredentials>('extracted credentials');

const extractedForVerify = new WeakMap<LessonContext, Promise<ExtractedCredentials>>();

/**
 * The certificates the lesson's exercise extracted from the kubeconfig. `kubelab verify` runs no
 * exercise: then they are extracted here, the same way, so that verify judges the same calls.
 */
function credentialsOf(context: LessonContext): Promise<ExtractedCredentials> {
  const extracted = context.evidence.get(EXTRACTED_CREDENTIALS);
  if (extracted) return Promise.resolve(extracted);
  let pending = extractedForVerify.get(context);
  if (!pending) {
    pending = extractCredentials(context.kube.config, context.workDir, context.cleanup);
    extractedForVerify.set(context, pending);
  }
  return pending;
}

const apiAccessVolume = (pod: { spec?: { volumes?: { name: string }[] } } | undefined) =>
  pod?.spec?.volumes?.map((v) => v.name).find((n) => n.startsWith('kube-api-access-'));

/** The raw HTTPS call lists the pod, with the same kube-api-access volume the client sees. */
export function rawApiSeesPod(namespace: string, pod: string): Assertion {
  return {
    name: `raw HTTPS GET of /api/v1/namespaces/${namespace}/pods with the extracted certs returns ${pod}`,
    expected: `HTTP 200 listing ${pod} with the same kube-api-access-* volume as the client sees`,
    async check(context) {
      const raw = await rawGet(await credentialsOf(context), `/api/v1/namespaces/${namespace}/pods`, true);
      if (raw.status !== 200) return { pass: false, observed: `HTTP ${raw.status}: ${raw.body.slice(0, 200)}` };
      const rawVolume = apiAccessVolume((JSON.parse(raw.body) as V1PodList).items.find((p) => p.metadata?.name === pod));
      const clientVolume = apiAccessVolume(await context.kube.core.readNamespacedPod({ name: pod, namespace }));
      return {
        pass: rawVolume !== undefined && rawVolume === clientVolume,
        observed: `HTTP 200; raw API volume ${rawVolume ?? '(none)'}, client volume ${clientVolume ?? '(none)'}`,
      };
    },
  };
}

/** Without a client certificate the API server refuses (anonymous is unauthorized or forbidden). */
export function anonymousRefused(path: string): Assertion {
  return {
    name: `GET ${path} without a client certificate is refused`,
    expected: 'HTTP 401 or 403',
    async check(context) {
      const raw = await rawGet(await credentialsOf(context), path, false);
      return { pass: raw.status === 401 || raw.status === 403, observed: `HTTP ${raw.status}` };
    },
  };
}
