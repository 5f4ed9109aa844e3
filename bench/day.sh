#!/usr/bin/env bash
# A compressed day of traffic (tests/TagStatus.FaultTests, DayTests) at bench size: DAY_TAGS tracked tags of 5 to
# DAY_MAX_RECIPIENTS recipients, sent over the first DAY_SEND_MINUTES of the simulator's clock, each settling over
# DAY_SETTLE_MINUTES as DAY_PROFILE says (campaign: 95% of rows within 10 min, 5% stragglers over the span; uniform:
# evenly over the span), run minute by minute through the timer and the queues (DAY_CONCURRENCY refresh messages at
# once) with lookups every minute, until every tag settles. Prints a progress line per simulated hour and every
# DAY_PROGRESS_SECONDS of wall time while it runs (kept in DAY_PROGRESS_FILE), then the figures line (tags, recipients,
# wall time, upstream calls and busiest simulated minute, lookup p50/p99, backlog oldest due age p50/p99/max).
# Azurite can take longer than the app's 10 s storage timeout at a million rows: DAY_STORAGE_TIMEOUT_SECONDS (120 here).
#   DAY_TAGS=2000 DAY_MAX_RECIPIENTS=10000 DAY_SETTLE_MINUTES=300 DAY_SEND_MINUTES=480 DAY_PROFILE=campaign bench/day.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$repo_root"
trap stop_started EXIT
ensure_node_tools
export DAY_TAGS=${DAY_TAGS:-2000} DAY_MAX_RECIPIENTS=${DAY_MAX_RECIPIENTS:-10000} DAY_SETTLE_MINUTES=${DAY_SETTLE_MINUTES:-300}
export DAY_PROFILE=${DAY_PROFILE:-campaign} DAY_CONCURRENCY=${DAY_CONCURRENCY:-2} DAY_SEND_MINUTES=${DAY_SEND_MINUTES:-480} DAY_PROGRESS_SECONDS=${DAY_PROGRESS_SECONDS:-60}
export DAY_STORAGE_TIMEOUT_SECONDS=${DAY_STORAGE_TIMEOUT_SECONDS:-120}
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
