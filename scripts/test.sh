#!/usr/bin/env bash
# The test command: set up the machine, type-check, then unit and integration tests
# (integration tests use the real dockerd, real images and real HTTP servers on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
npm run --silent typecheck
# Cluster tests need what `kubelab doctor --fix` sets up (k3d/kind built, and on hosts that cannot
# grant CAP_SYS_RESOURCE the runc wrapper for privileged nodes). Doctor exits 3 while anything
# required is still missing; the tests then say what.
node bin/kubelab.js doctor --fix || true
export NODE_OPTIONS=--experimental-vm-modules
# A project that finds no test fails the run, unless the arguments pick tests (a path, -t): then the
# other projects may rightly find none.
only=${1:+--passWithNoTests}
npx jest --ci $only "$@" --selectProjects unit integration
npx jest --ci --runInBand $only "$@" --selectProjects cluster
