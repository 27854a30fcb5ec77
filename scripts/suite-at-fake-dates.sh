#!/usr/bin/env bash
# Runs the test suite at four fake dates to prove that no outcome depends on the day it runs:
# a Monday morning, a Friday 16:00 local time, and just before the two European DST changes (the last
# Sunday of March and of October), all in Europe/Paris. Needs libfaketime (Debian: apt-get install faketime).
# Usage: scripts/suite-at-fake-dates.sh [pytest args...]   (default: the whole suite)
set -uo pipefail
cd "$(dirname "$0")/.."
command -v faketime >/dev/null || { echo "faketime is not installed (apt-get install faketime)"; exit 2; }
PY=${PY:-.venv/bin/python}
# The fake clock is an offset from the real one, so every process the tests start (the CLI, the agent, a fake
# `sf`, PostgreSQL) shares one clock: a start-at time would restart the clock in each child. Monotonic time is
# faked too (libfaketime 0.9.10 breaks time.sleep with EINVAL when it is not).
export TZ=Europe/Paris
failed=()
for moment in "2027-01-04 09:30:00" "2026-12-11 16:00:00" "2027-03-28 01:55:00" "2027-10-31 02:55:00"; do
  echo "=== the suite at $moment ($TZ)"
  log=$(mktemp)
  offset=$(( $(date -d "$moment" +%s) - $(date +%s) ))
  faketime -f "$(printf "%+d" "$offset")" "$PY" -m pytest -q -p no:cacheprovider "$@" >"$log" 2>&1
  code=$?
  tail -n 12 "$log"
  [ "$code" = 0 ] || failed+=("$moment")
  rm -f "$log"
done
if [ ${#failed[@]} -gt 0 ]; then echo "failed at: ${failed[*]}"; exit 1; fi
echo "passed at all four dates"
