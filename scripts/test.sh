#!/usr/bin/env bash
# `npm test`: set up (pnpm, node modules, the Debian peers), build, then run every test with ava.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh all
bash scripts/build.sh
exec node_modules/.bin/ava "$@"
