#!/usr/bin/env bash
# A 100,000-recipient tag registered with the app running under the real Azure Functions host, and refreshed the way
# production does it: the registration queues the first read, the queue-triggered function reads it in steps of
# Tracking__PagesPerMessage pages, each step's follow-up goes through the refresh queue, the last one merges and stores.
# Measures the .NET worker process (the one the host starts, where the app runs): its working set sampled every 100 ms
# and the kernel's high-water mark (VmHWM) once the tag is complete. Starts Azurite, the simulator and the host on free
# loopback ports and stops them by PID, pass or fail.
#   PAGE_SIZE=1000 RECIPIENTS=100000 bench/worker-bigtag.sh
# The host comes from FUNCTIONS_HOST_RUNNER, else ../shared/functions-host/run-host.sh next to the repository (as in
# .ci/run), else Core Tools' func. Its own output folders (.artifacts/worker-bigtag), so it can run beside scripts/test.sh.
# SMS Partner's 5 calls/s is lifted here (SmsPartner__RequestsPerSecond, default 1000) as in bench/bigtag.sh, and so is a
# pass's pace (Tracking__IntervalPerPage, default 0: a step's follow-up is not held back): at 0.8 s a page, 5,000 pages
# take 67 minutes, and the app's own cost is what is measured.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
export STACK_LOGS=${STACK_LOGS:-$repo_root/.artifacts/worker-bigtag}
source "$repo_root/scripts/start-stack.sh"
cd "$repo_root"
completion=$(mktemp)
trap 'stop_started; rm -f "$completion"' EXIT

page_size=${PAGE_SIZE:-1000}
recipients=${RECIPIENTS:-100000}
tag="worker-big-$page_size"
if [ -z "${FUNCTIONS_HOST_RUNNER:-}" ] && [ -x "$repo_root/../shared/functions-host/run-host.sh" ]; then
  export FUNCTIONS_HOST_RUNNER="$repo_root/../shared/functions-host/run-host.sh"
fi
runner=$(functions_host_runner)
[ -n "$runner" ] || { log "no Azure Functions host here: set FUNCTIONS_HOST_RUNNER (see README) or install Core Tools"; exit 1; }

ensure_node_tools
dotnet build src/TagStatus.Functions -c Release -nologo -v:q -clp:ErrorsOnly --disable-build-servers >&2
dotnet build src/SmsPartner.Simulator -c Release -nologo -v:q -clp:ErrorsOnly --disable-build-servers >&2
start_azurite
start_simulator Release
curl -fsS -X PUT -H 'Content-Type: application/json' -d "{\"pageSize\":$page_size}" "$SIMULATOR_URL/_admin/paging" >/dev/null
curl -fsS -X PUT -H 'Content-Type: application/json' -d "{\"generate\":{\"count\":$recipients,\"waitingRatio\":0.0,\"seed\":7}}" \
  "$SIMULATOR_URL/_admin/tags/$tag" >/dev/null

prefix="w$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
# The timer never fires on its own (January 1st): the registration's queued read and its follow-ups do all the work.
app_settings "$TAGSTATUS_STORAGE" "$SIMULATOR_URL" "0 0 0 1 1 *" "00:00:30"
APP_SETTINGS+=("TagStorage__TablePrefix=$prefix" "RefreshQueueName=$prefix-refresh" "CallbacksQueueName=$prefix-callbacks"
  "SmsPartner__RequestsPerSecond=${REQUESTS_PER_SECOND:-1000}" "Tracking__IntervalPerPage=${INTERVAL_PER_PAGE:-00:00:00}")
port=$(free_port)
FUNCTIONS_APP_DIR="$repo_root/.artifacts/worker-bigtag/functions-app" start_functions_host Release "$runner" "$port" "$stack_logs/host.log"
base="http://127.0.0.1:$port/api"

worker=""
for _ in $(seq 1 100); do
  # The host runs in its own session (setsid), and its worker with it: another app's worker on the machine is not it.
  worker=$(pgrep -s "${started_groups[-1]}" -f -- "TagStatus.Functions.dll" | head -1 || true)
  [ -n "$worker" ] && break
  sleep 0.1
done
[ -n "$worker" ] || { log "no worker process (TagStatus.Functions.dll) under the host"; exit 1; }
status_of_worker() {
  cat "/proc/$worker/status" 2>/dev/null || { log "the worker (pid $worker) is gone: the host restarted or lost it (see $stack_logs/host.log)"; return 1; }
}
rss_mb() { status_of_worker | awk '/^VmRSS:/{print int($2/1024 + 0.5)}'; }
rss_split() { status_of_worker | awk '/^(RssAnon|RssFile|RssShmem):/{printf "%s%s %d MB", sep, tolower(substr($1,4,length($1)-4)), $2/1024 + 0.5; sep=", "}'; }
baseline=$(rss_mb)

start=$(date +%s%N)
code=$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' -X POST -H "x-functions-key: $APP_FUNCTION_KEY" \
  -H 'Content-Type: application/json' -d "{\"tag\":\"$tag\"}" "$base/tags" || true)
[ "$code" = 202 ] || [ "$code" = 200 ] || { log "registration answered '$code'"; exit 1; }

peak=0 peak_split="" code="" last_poll=0
deadline=$((SECONDS + ${TIMEOUT_SECONDS:-900}))
while [ $SECONDS -lt $deadline ]; do
  rss=$(rss_mb)
  if [ "$rss" -gt "$peak" ]; then peak=$rss; peak_split=$(rss_split); fi
  if [ $SECONDS -ne $last_poll ]; then
    last_poll=$SECONDS
    # A poll that fails (a timeout, say) is polled again; 200 means settled.
    code=$(curl -s --max-time 10 -o "$completion" -w '%{http_code}' -H "x-functions-key: $APP_FUNCTION_KEY" "$base/tags/$tag/completion" || true)
    [ "$code" != 200 ] || break
  fi
  sleep 0.1
done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
hwm=$(status_of_worker | awk '/^VmHWM:/{print int($2/1024 + 0.5)}')
[ "$code" = 200 ] || { log "the tag did not settle within ${TIMEOUT_SECONDS:-900} s"; exit 1; }
state=$(grep -o '"state":"[a-zA-Z]*"' "$completion" | head -1 || true)
total=$(grep -o '"total":[0-9]*' "$completion" | head -1 || true)

printf 'worker big tag: %s recipients, %s a page, under the real Functions host (%s)\n' "$recipients" "$page_size" "$(basename "$runner")"
printf '  registered to settled: %s s, %s, %s\n' "$(awk -v ms="$elapsed_ms" 'BEGIN{printf "%.1f", ms / 1000}')" "$state" "$total"
printf '  worker working set: idle %s MB before registering, sampled peak %s MB (%s), high-water mark %s MB\n' \
  "$baseline" "$peak" "$peak_split" "$hwm"
if [ "$state" != '"state":"complete"' ] || [ "$total" != "\"total\":$recipients" ]; then
  log "expected the tag complete with $recipients recipients"; exit 1
fi
