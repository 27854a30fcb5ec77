#!/usr/bin/env bash
# Runs the test suite at four fake dates to prove that no outcome depends on the day it runs:
# a Monday morning, a Friday 16:00 local time, and just before the two European DST changes (the last
# Sunday of March and of October), all in Europe/Paris.
#
# The clock is faked for every process the tests start (the CLI, the agent, a fake `sf`, PostgreSQL) with
# libfaketime, as an offset from the real clock so that all of them share one clock (a start-at time would
# restart it in each child). The library comes from the `libfaketime` package on PyPI (a dev dependency):
# Debian's libfaketime 0.9.10 either hangs Python's timed waits (monotonic faked) or breaks time.sleep
# with EINVAL (monotonic real); the newer build it bundles does neither with monotonic time left real.
# Usage: scripts/suite-at-fake-dates.sh [pytest args...]   (default: the whole suite)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
lib=$("$PY" - <<'PYEOF'
import importlib.util, pathlib
spec = importlib.util.find_spec("libfaketime")
found = sorted(pathlib.Path(spec.origin).parent.rglob("libfaketime.so.1")) if spec and spec.origin else []
print(found[0] if found else "")
PYEOF
)
[ -n "$lib" ] || { echo "libfaketime not found: pip install -e '.[dev]' (it is a dev dependency)"; exit 2; }
export TZ=Europe/Paris FAKETIME_DONT_FAKE_MONOTONIC=1
failed=()
for moment in "2027-01-04 09:30:00" "2026-12-11 16:00:00" "2027-03-28 01:55:00" "2027-10-31 02:55:00"; do
  offset=$(( $(date -d "$moment" +%s) - $(date +%s) ))
  echo "=== the suite at $moment ($TZ), clock offset $offset s"
  log=$(mktemp)
  LD_PRELOAD="$lib" FAKETIME="$(printf "%+d" "$offset")" "$PY" -m pytest -q -p no:cacheprovider "$@" >"$log" 2>&1
  code=$?
  tail -n 12 "$log"
  if [ "$code" = 0 ]; then rm -f "$log"; else failed+=("$moment"); echo "whole output kept in $log"; fi
done
if [ ${#failed[@]} -gt 0 ]; then echo "failed at: ${failed[*]}"; exit 1; fi
echo "passed at all four dates"
