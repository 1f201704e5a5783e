/**
 * The public lesson API is a contract: its names are pinned here (a change to them is a deliberate
 * edit of this list), lessons in labs/ import nothing else, and the package exports it.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as api from '../../src/index.js';
import { packageRoot } from '../../src/util/paths.js';

describe('kubelab public lesson API', () => {
  test('exports exactly these names', () => {
    expect(Object.keys(api).sort()).toEqual([
      'EXTRACTED_CREDENTIALS', 'STOP_LOAD', 'addonsRunning', 'anonymousRefused', 'applyFields', 'corednsCorefile', 'datastoreIs', 'defineLesson',
      'deploymentAvailable', 'etcdVersionsByExec', 'evidenceKey', 'extractCredentials', 'flagsInEffect', 'formatLoadSummary', 'hpaReadsMetrics',
      'httpAnswers', 'ingressHasAddress', 'kubeProxyMode', 'kubeletConfigz', 'leaderLeases', 'lessonPassed', 'nodesReady', 'podRunning',
      'podsBoundToNodes', 'podsSpread', 'rawApiSeesPod', 'recordEvents', 'recordPodMetrics', 'recordScaling', 'requestUntil',
      'rescaleEvent', 'runLesson', 'runLoad', 'scaledAbove', 'scalesDownAfterLoad', 'serviceHasReadyEndpoint', 'staticControlPlanePods', 'verifyLesson', 'watched',
    ]);
  });

  test('lessons in labs/ import only the public API (or another lesson)', () => {
    const labs = join(packageRoot(), 'labs');
    const imports = readdirSync(labs)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(join(labs, f), 'utf8').matchAll(/from '([^']+)'/g)].map((m) => `${f}: ${m[1]}`));
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((i) => !/: (\.\.\/src\/index\.js|\.\/lesson-[\w-]+\.js)$/.test(i))).toEqual([]);
  });

  test('the package exports it, with its types', () => {
    const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(manifest.exports['.']).toEqual({ types: './dist/src/index.d.ts', default: './dist/src/index.js' });
  });
});
