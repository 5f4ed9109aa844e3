#!/usr/bin/env bash
# A compressed day of traffic (tests/TagStatus.FaultTests, DayTests) at bench size: DAY_TAGS tracked tags of 5 to
# DAY_MAX_RECIPIENTS recipients, settling over DAY_SETTLE_MINUTES of the simulator's clock as DAY_PROFILE says (uniform:
# evenly over the span; campaign: 95% within 10 min, 5% stragglers over the span), run minute by minute through the timer
# and the queues (DAY_CONCURRENCY refresh messages at once; campaigns sent over the first DAY_SEND_MINUTES) with lookups every minute, until every tag settles. Prints a
# progress line per simulated hour and every DAY_PROGRESS_SECONDS of wall time while it runs (kept in DAY_PROGRESS_FILE),
# then the figures line (tags, recipients, wall time, upstream calls and busiest simulated minute, lookup p50/p99,
# backlog oldest due age p50/p99/max).
#   DAY_TAGS=2000 DAY_MAX_RECIPIENTS=10000 DAY_SETTLE_MINUTES=300 DAY_PROFILE=campaign DAY_CONCURRENCY=16 bench/day.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$repo_root"
trap stop_started EXIT
ensure_node_tools
export DAY_TAGS=${DAY_TAGS:-2000} DAY_MAX_RECIPIENTS=${DAY_MAX_RECIPIENTS:-10000} DAY_SETTLE_MINUTES=${DAY_SETTLE_MINUTES:-300}
export DAY_PROFILE=${DAY_PROFILE:-campaign} DAY_CONCURRENCY=${DAY_CONCURRENCY:-16} DAY_SEND_MINUTES=${DAY_SEND_MINUTES:-0} DAY_PROGRESS_SECONDS=${DAY_PROGRESS_SECONDS:-60}
export DAY_PROGRESS_FILE=${DAY_PROGRESS_FILE:-$(mktemp -t day-progress.XXXXXX)}
dotnet build tests/TagStatus.FaultTests -c Release -nologo -v:q -clp:ErrorsOnly
start_azurite
export DAY_AZURITE_PID=${started_pids[-1]}
log "progress lines go to $DAY_PROGRESS_FILE"
: >>"$DAY_PROGRESS_FILE"
tail -n 0 -f "$DAY_PROGRESS_FILE" >&2 &
started_pids+=($!)
dotnet test tests/TagStatus.FaultTests -c Release --no-build --nologo -v:q --filter "FullyQualifiedName~DayTests" \
  --logger "console;verbosity=detailed" -- RunConfiguration.TestSessionTimeout=14400000 | grep -E "day:|Passed|Failed|Error|Assert" || true
