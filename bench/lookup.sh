#!/usr/bin/env bash
# Issue 14's lookup figures on a stored 100,000-recipient tag (bench/TagStatus.Benchmarks/LookupRun.cs): a page of 100
# (page 1, last page, status filter) against a bare TableClient query of the same rows, then in a fresh process the
# working-set growth of the whole CSV. Starts Azurite on free loopback ports and stops it by PID, pass or fail.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$repo_root"
trap stop_started EXIT
ensure_node_tools
dotnet build bench/TagStatus.Benchmarks -c Release -nologo -v:q -clp:ErrorsOnly >&2
start_azurite
prefix="l$(date +%s)"
bench=bench/TagStatus.Benchmarks/bin/Release/net10.0/TagStatus.Benchmarks.dll
status=0
dotnet "$bench" lookup-pages "$TAGSTATUS_STORAGE" "$prefix" || status=$?
dotnet "$bench" lookup-csv "$TAGSTATUS_STORAGE" "$prefix" || status=$?
exit "$status"
