#!/usr/bin/env bash
# Build every package with tsc project references, but only when a source changed since the last build.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
stamp=.build-stamp
if [ -f "$stamp" ] && [ -z "$(find packages test bench -path '*/node_modules' -prune -o \( -name '*.ts' -o -name '*.c' -o -name 'package.json' -o -name 'tsconfig.json' \) -newer "$stamp" -print -quit)" ]; then
  exit 0
fi
node_modules/.bin/tsc -b
touch "$stamp"
