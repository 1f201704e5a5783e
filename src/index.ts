/**
 * kubelab's public API: everything a lesson file imports, and the calls a test suite runs lessons
 * with. Lessons in labs/ import only this module; `import { defineLesson, nodesReady } from 'kubelab'`
 * gives the same surface to lessons and test suites in other projects. test/unit/public-api.test.ts
 * pins the names.
 */

// Running lessons from a test suite: the outcome, not an exit code
export { runLesson, verifyLesson, type RunLessonOptions, type VerifyLessonOptions } from './lab/library.js';
export { lessonPassed, type LessonOutcome } from './lab/outcome.js';

// Defining a lesson
export { defineLesson } from './lab/types.js';
export { evidenceKey, type Evidence, type EvidenceKey } from './lab/evidence.js';
export type {
  Assertion,
  AssertionResult,
  CompanionSpec,
  ExerciseStep,
  Lesson,
  LessonClusterSpec,
  LessonContext,
  Observation,
  ProviderOnly,
} from './lab/types.js';

// Assertions: each watches the cluster until its condition holds or its deadline passes
export { addonsRunning, deploymentAvailable, ingressHasAddress, nodesReady, podsBoundToNodes, serviceHasReadyEndpoint } from './assert/workloads.js';
export { httpAnswers, type HttpExpectation } from './assert/http.js';
export { podRunning } from './assert/pods.js';
export { hpaReadsMetrics, podsSpread, rescaleEvent, scaledAbove, scalesDownAfterLoad, STOP_LOAD } from './assert/autoscaling.js';
export { anonymousRefused, EXTRACTED_CREDENTIALS, rawApiSeesPod } from './assert/raw-api.js';
export { datastoreIs } from './assert/datastore.js';
export {
  corednsCorefile,
  etcdVersionsByExec,
  flagsInEffect,
  kubeletConfigz,
  kubeProxyMode,
  leaderLeases,
  staticControlPlanePods,
} from './assert/control-plane.js';
export { watched, type WatchedAssertion } from './assert/eventually.js';

// Exercise steps: load through an ingress, requests, field patches, credentials, timeline recorders
export { formatLoadSummary, runLoad, type LoadOptions, type LoadResult } from './load/generator.js';
export { requestUntil, type RequestUntilOptions, type RequestUntilResult } from './load/request.js';
export { applyFields } from './kube/apply.js';
export { extractCredentials, type ExtractedCredentials } from './kube/credentials.js';
export { recordEvents } from './observe/events.js';
export { recordPodMetrics } from './observe/pod-metrics.js';
export { recordScaling } from './observe/scaling.js';
