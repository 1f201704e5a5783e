#!/usr/bin/env bash
# The test command: set up the machine, type-check, then unit and integration tests
# (integration tests use the real dockerd, real images and real HTTP servers on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
npm run --silent typecheck
# Cluster tests need what `kubelab doctor --fix` sets up (k3d/kind built, and on hosts that cannot
# grant CAP_SYS_RESOURCE the runc wrapper for privileged nodes). Doctor exits 3 while anything
# required is still missing (on a new machine the forged images, which the tests forge and name);
# any other exit is the fix itself failing, which stops here. test/cluster/doctor-fix.test.ts checks
# the wrapper's installation for real.
doctor=0
node bin/kubelab.js doctor --fix || doctor=$?
if [ "$doctor" -ne 0 ] && [ "$doctor" -ne 3 ]; then exit "$doctor"; fi
export NODE_OPTIONS=--experimental-vm-modules
# A project that finds no test fails the run, unless the arguments pick tests (a path, -t): then the
# other projects may rightly find none.
only=${1:+--passWithNoTests}
npx jest --ci $only "$@" --selectProjects unit integration
npx jest --ci --runInBand $only "$@" --selectProjects cluster
# The example project: its own package.json (kubelab by path) and a jest test that runs its lesson on
# a real k3d cluster through the library API. Only on a whole run, not when the arguments pick tests.
if [ $# -eq 0 ]; then
  npm --prefix examples/greeter ci --no-audit --no-fund --loglevel=error
  npm --prefix examples/greeter test
fi
