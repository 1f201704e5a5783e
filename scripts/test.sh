#!/usr/bin/env bash
# The test command: set up the machine, type-check, then unit and integration tests
# (integration tests use the real dockerd, real images and real HTTP servers on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
npm run --silent typecheck
NODE_OPTIONS=--experimental-vm-modules npx jest --ci "$@"
