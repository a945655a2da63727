#!/bin/sh
# Type-checks tests/, examples/ and bench/ with the project's strict mypy config.
# Several directories have their own conftest.py (duplicate module names), so mypy runs
# once per directory. Fails if any run reports an error.
set -u
MYPY=${MYPY:-.venv/bin/mypy}
export MYPYPATH=tests:tests/clients:tests/resilience:bench
status=0
for target in tests/*/ tests/*.py examples bench; do
  "$MYPY" "$target" --explicit-package-bases || status=1
done
exit $status
