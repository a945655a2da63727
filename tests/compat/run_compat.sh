#!/usr/bin/env bash
# make compat: boot the original services with tests/compat/harness/services.sh, run tests/compat
# against them and against the today fakes (which writes docs/compatibility.md and
# tests/compat/recorded_bodies.json), and stop them again whatever the result.
#
# Needs NILECARE_SOURCE (a git directory of mohfadul/nilecare). Without it: one line, exit 0.
# Env: NILECARE_STATE (default /var/tmp/nilecare-real), PYTHON (default .venv/bin/python),
#      NILECARE_COMPAT_KEEP_UP=1 to leave the services running afterwards.
# Extra arguments go to pytest. Runs on one machine must not overlap (fixed port 5432):
# serialise them, e.g. `flock /tmp/nilecare-real.lock make compat`.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SERVICES="$ROOT/tests/compat/harness/services.sh"
STATE="${NILECARE_STATE:-/var/tmp/nilecare-real}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
export NILECARE_STATE="$STATE"

if [ -z "${NILECARE_SOURCE:-}" ]; then
  echo "compat: skipped: NILECARE_SOURCE is not set (a git directory of mohfadul/nilecare)"
  exit 0
fi

stop() {
  if [ "${NILECARE_COMPAT_KEEP_UP:-0}" = 1 ]; then
    echo "compat: services left running (NILECARE_COMPAT_KEEP_UP=1); stop them with $SERVICES down"
  else
    "$SERVICES" down
  fi
}
trap stop EXIT

"$SERVICES" up || { echo "compat: booting the services failed" >&2; exit 1; }

cd "$ROOT" || exit 1
NILECARE_COMPAT=1 "$PYTHON" -m pytest -q -p no:cacheprovider tests/compat "$@"
status=$?
echo "compat: docs/compatibility.md written (pytest exit $status)"
exit $status
