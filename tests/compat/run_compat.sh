#!/usr/bin/env bash
# make compat: boot the real NileCare services, run tests/compat/ against them, write
# docs/compatibility.md, and bring the services down again even when a test fails.
#
# Needs NILECARE_SOURCE (a git directory of mohfadul/nilecare). Without it: one line, exit 0.
# Env: NILECARE_REAL_SERVICES (default ../shared/real-services next to this repository),
#      NILECARE_STATE (default /var/tmp/nilecare-real, as up.sh), PYTHON (default .venv/bin/python),
#      NILECARE_COMPAT_KEEP_UP=1 to leave the services running afterwards.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
REAL="${NILECARE_REAL_SERVICES:-$ROOT/../shared/real-services}"
STATE="${NILECARE_STATE:-/var/tmp/nilecare-real}"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"

if [ -z "${NILECARE_SOURCE:-}" ]; then
  echo "compat: skipped: NILECARE_SOURCE is not set (a git directory of mohfadul/nilecare)"
  exit 0
fi
[ -x "$REAL/up.sh" ] || { echo "compat: $REAL/up.sh not found (set NILECARE_REAL_SERVICES)" >&2; exit 2; }

down() {
  if [ "${NILECARE_COMPAT_KEEP_UP:-0}" = 1 ]; then
    echo "compat: services left running (NILECARE_COMPAT_KEEP_UP=1); stop with $REAL/down.sh"
  else
    "$REAL/down.sh"
  fi
}
trap down EXIT

"$REAL/up.sh" || { echo "compat: up.sh failed" >&2; exit 1; }

# A clinician token (role doctor, every permission) minted with up.sh's own secret, so that
# the write routes reach their handlers instead of stopping at the auth layer.
# shellcheck disable=SC1091
source "$STATE/env.sh"
CLINICIAN=$(JWT_SECRET="$NILECARE_JWT_SECRET" python3 "$REAL/auth_standin.py" mint \
  --org "$NILECARE_ORG_ID" --role doctor --user 44444444-4444-4444-8444-000000000001 \
  --email clinician@nilecare.test --perm '*') || { echo "compat: minting a token failed" >&2; exit 1; }
umask 077
printf 'export NILECARE_CLINICIAN_TOKEN=%s\n' "$CLINICIAN" > "$STATE/compat-env.sh"

cd "$ROOT" || exit 1
NILECARE_COMPAT=1 NILECARE_STATE="$STATE" "$PYTHON" -m pytest -q -p no:cacheprovider tests/compat "$@"
status=$?
echo "compat: docs/compatibility.md written (pytest exit $status)"
exit $status
