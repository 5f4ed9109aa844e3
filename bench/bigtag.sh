#!/usr/bin/env bash
# A 100,000-recipient tag read in steps, stored and completed through the simulator, at 20 and at 1,000 rows a page,
# with the Azurite ceiling measured in the same run (bench/TagStatus.Benchmarks/BigTagRun.cs). Starts Azurite and the
# simulator on free loopback ports and stops them by PID, pass or fail.   RECIPIENTS=100000 bench/bigtag.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
source "$repo_root/scripts/start-stack.sh"
cd "$repo_root"
trap stop_started EXIT
ensure_node_tools
dotnet build bench/TagStatus.Benchmarks -c Release -nologo -v:q -clp:ErrorsOnly >&2
dotnet build src/SmsPartner.Simulator -c Release -nologo -v:q -clp:ErrorsOnly >&2
start_azurite
start_simulator Release
for page_size in ${PAGE_SIZES:-20 1000}; do
  dotnet bench/TagStatus.Benchmarks/bin/Release/net10.0/TagStatus.Benchmarks.dll bigtag "$SIMULATOR_URL" "$TAGSTATUS_STORAGE" "${RECIPIENTS:-100000}" "$page_size"
done
