#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the tools (Azurite from npm, Bicep from NuGet), builds, checks the
# infrastructure templates, starts what the tests need on free loopback ports, runs every test project, stops what it
# started (pass or fail), and ends with one line: "N passed, N failed, N skipped".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$repo_root"
trap stop_started EXIT
trap 'stop_started; exit 130' INT TERM

require dotnet "install the .NET 10 SDK"
require curl "install curl"
ensure_node_tools

configuration=${CONFIGURATION:-Release}
results="$repo_root/.artifacts/test-results"
rm -rf "$results" && mkdir -p "$results"

log "building ($configuration)"
dotnet build FunctionApp.sln -c "$configuration" -nologo -v:q -clp:ErrorsOnly

status=0
if [ -x scripts/check-infra.sh ]; then
  log "checking the Bicep templates"
  scripts/check-infra.sh || status=1
fi

start_azurite

run_tests() { # project [extra args]
  local project=$1; shift
  log "testing $project"
  dotnet test "$project" -c "$configuration" --no-build --nologo -v:q \
    --logger "trx;LogFileName=$(basename "$project").trx" --results-directory "$results" "$@" || status=1
}

for project in tests/*/*.csproj; do
  case "$project" in
    *EndToEndTests*) ;; # needs the running host: below
    *) run_tests "$project" ;;
  esac
done

if [ -f tests/TagStatus.EndToEndTests/TagStatus.EndToEndTests.csproj ] && [ -x scripts/start-stack.sh ]; then
  source scripts/start-stack.sh
  start_stack "$configuration" || status=1
  run_tests tests/TagStatus.EndToEndTests/TagStatus.EndToEndTests.csproj
fi

stop_started

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  attr() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  total=$(attr total); executed=$(attr executed); p=$(attr passed); f=$(attr failed); e=$(attr error); t=$(attr timeout); a=$(attr aborted)
  passed=$((passed + p)); failed=$((failed + f + e + t + a)); skipped=$((skipped + total - executed))
done
if [ $status -ne 0 ] && [ $failed -eq 0 ]; then
  log "a step failed outside the test counts (build, infra check, or a test run that did not finish)"
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ $status -eq 0 ] && [ $failed -eq 0 ]
