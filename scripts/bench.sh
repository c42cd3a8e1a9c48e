#!/usr/bin/env bash
# `npm run bench`: every benchmark in bench/, each printing its figure next to a same-run baseline.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
bash scripts/setup.sh all
bash scripts/build.sh
exec node --enable-source-maps bench/dist/run.js "$@"
