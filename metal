#!/usr/bin/env bash
# The metal CLI from a checkout: installs node modules and builds on first use (or when sources changed).
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
bash "$here/scripts/setup.sh" node >&2
bash "$here/scripts/build.sh" >&2
exec node --enable-source-maps "$here/packages/core/dist/src/cli/main.js" "$@"
