# Shared by the examples' run.sh scripts (sourced, not run): `metal`, a private work dir removed at exit,
# background processes stopped at exit, and a bounded wait for a line a process prints.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
main="$repo/packages/core/dist/src/cli/main.js"

# The built CLI when there is one (fast), else the checkout's ./metal (installs and builds on first use).
metal() {
  if [ -f "$main" ]; then node "$main" "$@"; else "$repo/metal" "$@"; fi
}

work="$(mktemp -d "${TMPDIR:-/tmp}/metal-example-XXXXXX")"
chmod 700 "$work"
pids=()
# Each background job in its own process group (job control), so the whole group (the shell function and the
# node process it runs) is stopped at exit.
set -m
cleanup() {
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "${METAL_EXAMPLE_KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# start NAME CMD...: run CMD in the background, its output in $work/NAME.out.
start() {
  local name="$1"
  shift
  "$@" >"$work/$name.out" 2>&1 &
  pids+=("$!")
}

# wait_for NAME REGEX [SECONDS]: until $work/NAME.out has a line matching REGEX (default 180 s); prints it.
wait_for() {
  local name="$1" re="$2" limit="${3:-180}" i
  for ((i = 0; i < limit * 10; i++)); do
    if grep -Eq "$re" "$work/$name.out" 2>/dev/null; then
      grep -E "$re" "$work/$name.out" | head -1
      return 0
    fi
    sleep 0.1
  done
  echo "timed out after ${limit} s waiting for /$re/ from $name:" >&2
  tail -20 "$work/$name.out" >&2 || true
  return 1
}
