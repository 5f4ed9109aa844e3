#!/usr/bin/env bash
# Runs every test on a fresh machine: installs the tools (Azurite from npm, Bicep from NuGet), builds, checks the
# infrastructure templates, starts what the tests need on free loopback ports, runs every test project, stops what it
# started (pass or fail), and ends with two lines: which hosts the end-to-end suite ran on (the LocalHost, and the real
# Azure Functions host when FUNCTIONS_HOST_RUNNER names its runner or Core Tools is installed), then
# "N passed, N failed, N skipped".
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
if ! dotnet build FunctionApp.sln -c "$configuration" -nologo -v:q -clp:ErrorsOnly; then
  # Nothing can run on a broken build; the totals line still ends the output, as CI reads it.
  echo "End-to-end hosts: none (the build failed)"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

status=0
if [ -x scripts/check-infra.sh ]; then
  log "checking the Bicep templates"
  scripts/check-infra.sh || status=1
fi

start_azurite

run_tests() { # project [extra args; a --logger trx given here names the results file]
  local project=$1; shift
  local trx="trx;LogFileName=$(basename "$project").trx"
  [[ " $* " != *" --logger trx;"* ]] || trx=""
  log "testing $project $*"
  # The console logger at minimal prints each failed test's message and stack, so a red CI log says why.
  dotnet test "$project" -c "$configuration" --no-build --nologo -v:q --logger "console;verbosity=minimal" \
    ${trx:+--logger "$trx"} --results-directory "$results" "$@" || status=1
}

for project in tests/*/*.csproj; do
  case "$project" in
    *EndToEndTests*) ;; # needs the running host: below
    *) run_tests "$project" ;;
  esac
done

# The end-to-end suite, once per host: the LocalHost always, and the Functions app under the real Azure Functions host
# wherever one is here (FUNCTIONS_HOST_RUNNER, which .ci/run sets to ../shared/functions-host/run-host.sh, or func).
# Each run ends with the host's own log checked (Category=HostLog), after everything else has run against it.
e2e=tests/TagStatus.EndToEndTests/TagStatus.EndToEndTests.csproj
run_e2e() { # name
  run_tests "$e2e" --filter "Category!=HostLog" --logger "trx;LogFileName=EndToEnd.$1.trx"
  run_tests "$e2e" --filter "Category=HostLog" --logger "trx;LogFileName=EndToEnd.$1.HostLog.trx"
}
source scripts/start-stack.sh
runner=$(functions_host_runner) || status=1
hosts="none (the simulator did not start)"
if start_stack_simulator "$configuration"; then
  hosts="LocalHost"
  if start_stack_localhost "$configuration"; then run_e2e LocalHost; else status=1; hosts="LocalHost (did not start)"; fi
  stop_pid "${LOCALHOST_PID:-}"
  if [ -z "$runner" ]; then
    hosts+=" only: no real Azure Functions host on this machine (set FUNCTIONS_HOST_RUNNER to run-host.sh, or install Core Tools)"
  elif start_stack_functions_host "$configuration" "$runner"; then
    run_e2e FunctionsHost; hosts+=" and the Azure Functions host ($runner)"
  else
    status=1; hosts+=" and the Azure Functions host ($runner), which did not start"
  fi
else
  status=1
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
echo "End-to-end hosts: $hosts"
echo "$passed passed, $failed failed, $skipped skipped"
[ $status -eq 0 ] && [ $failed -eq 0 ]
