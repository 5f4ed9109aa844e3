#!/usr/bin/env bash
# A compressed day of traffic (tests/TagStatus.FaultTests, DayTests) at bench size: DAY_TAGS tracked tags of 5 to
# DAY_MAX_RECIPIENTS recipients, settling over DAY_SETTLE_MINUTES of the simulator's clock, run minute by minute through
# the timer and the queues with lookups every minute, until every tag settles. Prints the figures line (tags, recipients,
# wall time, upstream calls and busiest simulated minute, lookup p50/p99, backlog oldest due age p50/p99/max).
#   DAY_TAGS=2000 DAY_MAX_RECIPIENTS=10000 DAY_SETTLE_MINUTES=300 bench/day.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$repo_root"
trap stop_started EXIT
ensure_node_tools
export DAY_TAGS=${DAY_TAGS:-2000} DAY_MAX_RECIPIENTS=${DAY_MAX_RECIPIENTS:-10000} DAY_SETTLE_MINUTES=${DAY_SETTLE_MINUTES:-300}
dotnet build tests/TagStatus.FaultTests -c Release -nologo -v:q -clp:ErrorsOnly
start_azurite
dotnet test tests/TagStatus.FaultTests -c Release --no-build --nologo -v:q --filter "FullyQualifiedName~DayTests" \
  --logger "console;verbosity=detailed" -- RunConfiguration.TestSessionTimeout=14400000 | grep -E "day:|Passed|Failed|Error" || true
