# Starts Tag Status, on plain ASP.NET Core (src/TagStatus.LocalHost) or under the real Azure Functions host, and the SMS
# Partner simulator from built output, on free loopback ports. Sourced after lib.sh: scripts/test.sh calls the
# start_stack_* functions; scripts/run-local.sh uses the pieces. Every process started here is appended to started_pids
# (and a host's process group to started_groups), so stop_started stops it.

stack_logs="${STACK_LOGS:-$repo_root/.artifacts/stack}"

random_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

# Any HTTP answer counts (the app's one anonymous route may answer 501). Gives up early if the process has exited.
wait_for_http() { # url seconds name pid [log]
  local deadline=$((SECONDS + $2)) code
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null || true)
    if [ -n "$code" ] && [ "$code" != "000" ]; then return 0; fi
    if ! kill -0 "$4" 2>/dev/null; then
      log "$3 exited before answering $1"; [ ! -f "${5:-}" ] || tail -n 40 "$5" >&2; return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "$3 did not answer $1 within $2 s"; [ ! -f "${5:-}" ] || tail -n 40 "$5" >&2; return 1
    fi
    sleep 0.3
  done
}

built_dll() { # project configuration
  local dll="$repo_root/src/$1/bin/$2/net10.0/$1.dll"
  if [ ! -f "$dll" ]; then log "$dll is missing: dotnet build src/$1 -c $2"; return 1; fi
  echo "$dll"
}

# start_simulator configuration [simulator arguments]: sets SIMULATOR_URL (the root, no trailing slash).
start_simulator() {
  local configuration=$1 dll port; shift
  dll=$(built_dll SmsPartner.Simulator "$configuration") || return 1
  port=$(free_port)
  mkdir -p "$stack_logs"
  dotnet "$dll" --urls "http://127.0.0.1:$port" "$@" >"$stack_logs/simulator.log" 2>&1 &
  started_pids+=($!)
  SIMULATOR_URL="http://127.0.0.1:$port"
  wait_for_http "$SIMULATOR_URL/_admin/health" 60 "the simulator" "${started_pids[-1]}" "$stack_logs/simulator.log" || return 1
  log "SMS Partner simulator on $SIMULATOR_URL (pid ${started_pids[-1]}, log $stack_logs/simulator.log)"
}

# app_settings storage simulator_url schedule backoff_every: fills APP_SETTINGS (NAME=value, the names of
# local.settings.json) for either host, with fresh APP_SIGNING_KEY and APP_FUNCTION_KEY unless already set, and the
# simulator's key SMSPARTNER_KEY (sim-key unless set).
app_settings() {
  APP_SIGNING_KEY=${APP_SIGNING_KEY:-$(random_secret)}
  APP_FUNCTION_KEY=${APP_FUNCTION_KEY:-$(random_secret)}
  APP_SETTINGS=(
    "TagStorage__ConnectionString=$1"
    "SmsPartner__BaseUrl=$2/v1/"
    "SmsPartner__ApiKey=${SMSPARTNER_KEY:-sim-key}"
    "Secrets__VaultUri="
    "Callbacks__SigningKey=$APP_SIGNING_KEY"
    "Callbacks__AllowInsecureUrls=true"
    "RefreshSchedule=$3"
    "Tracking__Backoff__0__UpTo=1.00:00:00"
    "Tracking__Backoff__0__Every=$4"
    "LocalHost__FunctionKey=$APP_FUNCTION_KEY"
  )
}

# start_localhost configuration port [log]: runs the LocalHost with APP_SETTINGS; output to the log, else the terminal.
start_localhost() {
  local configuration=$1 port=$2 output=${3:-/dev/stderr} dll
  dll=$(built_dll TagStatus.LocalHost "$configuration") || return 1
  [ -z "${3:-}" ] || mkdir -p "$(dirname "$3")"
  env "${APP_SETTINGS[@]}" dotnet "$dll" --urls "http://127.0.0.1:$port" >>"$output" 2>&1 &
  started_pids+=($!)
  wait_for_http "http://127.0.0.1:$port/api/openapi.json" 60 "Tag Status (LocalHost)" "${started_pids[-1]}" "${3:-}" || return 1
  log "Tag Status (LocalHost) on http://127.0.0.1:$port/api (pid ${started_pids[-1]})"
}

# functions_host_runner: prints what runs the Functions app under the real Azure Functions host on this machine:
# FUNCTIONS_HOST_RUNNER (a script taking run-host.sh's arguments), else Core Tools' `func`, else nothing. A runner that
# is named but missing is an error, not a quiet fallback.
functions_host_runner() {
  if [ -n "${FUNCTIONS_HOST_RUNNER:-}" ]; then
    if [ ! -x "$FUNCTIONS_HOST_RUNNER" ]; then log "FUNCTIONS_HOST_RUNNER=$FUNCTIONS_HOST_RUNNER is not an executable file"; return 1; fi
    echo "$FUNCTIONS_HOST_RUNNER"
  elif command -v func >/dev/null 2>&1; then
    echo func
  fi
}

# start_functions_host configuration runner port log: publishes src/TagStatus.Functions (to FUNCTIONS_APP_DIR, else
# .artifacts/functions-app) and runs it under the real host with APP_SETTINGS, in its own process group and session
# (the host starts the .NET worker as its child). Sets FUNCTIONS_MASTER_KEY.
start_functions_host() {
  local configuration=$1 runner=$2 port=$3 output=$4 app="${FUNCTIONS_APP_DIR:-$repo_root/.artifacts/functions-app}" status_url
  log "publishing src/TagStatus.Functions ($configuration) to $app"
  rm -rf "$app"
  dotnet publish "$repo_root/src/TagStatus.Functions" -c "$configuration" --no-build -o "$app" -nologo -v:q >&2 || return 1
  FUNCTIONS_MASTER_KEY=${FUNCTIONS_MASTER_KEY:-$(random_secret)}
  if [ -f "$output" ] || [ ! -e "$output" ]; then mkdir -p "$(dirname "$output")" && : >"$output"; fi
  if [ "$runner" = func ]; then
    # func start reads local.settings.json; the environment given here overrides its values. It checks no keys.
    cp "$repo_root/local.settings.sample.json" "$app/local.settings.json"
    (cd "$app" && exec setsid env "${APP_SETTINGS[@]}" AzureWebJobsStorage="$TAGSTATUS_STORAGE" \
      FUNCTIONS_WORKER_RUNTIME=dotnet-isolated func start --port "$port") >>"$output" 2>&1 &
  else
    setsid "$runner" --app "$app" --port "$port" --storage "$TAGSTATUS_STORAGE" \
      --settings "$repo_root/local.settings.sample.json" --function-key "$APP_FUNCTION_KEY" \
      --master-key "$FUNCTIONS_MASTER_KEY" -- "${APP_SETTINGS[@]}" >>"$output" 2>&1 &
  fi
  started_pids+=($!); started_groups+=($!)
  # Ready when the host says Running and the worker serves the one anonymous route.
  status_url="http://127.0.0.1:$port/admin/host/status"
  wait_for_http "http://127.0.0.1:$port/api/openapi.json" 180 "the Functions host ($runner)" "${started_pids[-1]}" "$output" || return 1
  if ! curl -fsS -H "x-functions-key: $FUNCTIONS_MASTER_KEY" "$status_url" 2>/dev/null | grep -q '"state": *"Running"'; then
    log "the Functions host is not Running:"; curl -sS -H "x-functions-key: $FUNCTIONS_MASTER_KEY" "$status_url" >&2 || true
    [ ! -f "$output" ] || tail -n 40 "$output" >&2; return 1
  fi
  log "Tag Status (Azure Functions host, $runner) on http://127.0.0.1:$port/api (pid ${started_pids[-1]}, log $output)"
}

# start_stack_simulator configuration: the simulator for the end-to-end suite, with a random API key (SMSPARTNER_KEY),
# so the suite can scan the hosts' logs for it.
start_stack_simulator() {
  SMSPARTNER_KEY=$(random_secret)
  start_simulator "$1" "--Simulator:ApiKey=$SMSPARTNER_KEY" || return 1
  export TAGSTATUS_E2E_SIMULATOR="$SIMULATOR_URL" TAGSTATUS_E2E_SMSPARTNER_KEY="$SMSPARTNER_KEY"
}

# stack_settings table_prefix schedule: APP_SETTINGS for an end-to-end host; each host keeps its own tables.
stack_settings() {
  app_settings "$TAGSTATUS_STORAGE" "$SIMULATOR_URL" "$2" "00:00:02"
  # A refused callback is retried within the suite's deadlines; each host has its own tables and queues.
  APP_SETTINGS+=("TagStorage__TablePrefix=$1" "Callbacks__FirstRetryDelay=00:00:01"
    "RefreshQueueName=$1-refresh" "CallbacksQueueName=$1-callbacks")
}

# start_stack_localhost configuration: the LocalHost for the end-to-end suite, refreshing every 2 s. Sets LOCALHOST_PID
# and exports TAGSTATUS_E2E_* for the suite.
start_stack_localhost() {
  local port log_file="$stack_logs/localhost.log"
  stack_settings e2elocal "*/2 * * * * *"
  port=$(free_port)
  mkdir -p "$stack_logs" && : >"$log_file"
  start_localhost "$1" "$port" "$log_file" || return 1
  LOCALHOST_PID=${started_pids[-1]}
  export TAGSTATUS_E2E_HOST=localhost TAGSTATUS_E2E_BASEURL="http://127.0.0.1:$port" TAGSTATUS_E2E_KEY="$APP_FUNCTION_KEY" \
    TAGSTATUS_E2E_SIGNING_KEY="$APP_SIGNING_KEY" TAGSTATUS_E2E_MASTER_KEY="" TAGSTATUS_E2E_HOST_LOG="$log_file"
}

# start_stack_functions_host configuration runner: the Functions app under the real host for the end-to-end suite.
# Its schedule (January 1st) never fires during a run: the suite runs the timer through the admin API, so every refresh
# it sees is one it asked for. Sets FUNCTIONS_HOST_PID and exports TAGSTATUS_E2E_* for the suite.
start_stack_functions_host() {
  local port log_file="$stack_logs/functions-host.log" host=functions-host
  stack_settings e2ehost "0 0 0 1 1 *"
  port=$(free_port)
  start_functions_host "$1" "$2" "$port" "$log_file" || return 1
  FUNCTIONS_HOST_PID=${started_pids[-1]}
  [ "$2" != func ] || host=func
  export TAGSTATUS_E2E_HOST=$host TAGSTATUS_E2E_BASEURL="http://127.0.0.1:$port" TAGSTATUS_E2E_KEY="$APP_FUNCTION_KEY" \
    TAGSTATUS_E2E_SIGNING_KEY="$APP_SIGNING_KEY" TAGSTATUS_E2E_MASTER_KEY="$FUNCTIONS_MASTER_KEY" TAGSTATUS_E2E_HOST_LOG="$log_file"
}
