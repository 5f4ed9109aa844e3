# Starts Tag Status on plain ASP.NET Core (src/TagStatus.LocalHost) and the SMS Partner simulator from built output, on
# free loopback ports. Sourced after lib.sh: scripts/test.sh calls start_stack; scripts/run-local.sh uses the pieces.
# Every process started here is appended to started_pids, so stop_started stops it.

stack_logs="${STACK_LOGS:-$repo_root/.artifacts/stack}"

random_secret() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }

# Any HTTP answer counts (the app's one anonymous route may answer 501). Gives up early if the process has exited.
wait_for_http() { # url seconds name pid [log]
  local deadline=$((SECONDS + $2)) code
  while :; do
    code=$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null || true)
    if [ -n "$code" ] && [ "$code" != "000" ]; then return 0; fi
    if ! kill -0 "$4" 2>/dev/null; then
      log "$3 exited before answering $1"; [ -z "${5:-}" ] || tail -n 40 "$5" >&2; return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "$3 did not answer $1 within $2 s"; [ -z "${5:-}" ] || tail -n 40 "$5" >&2; return 1
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
# local.settings.json) for either host, with fresh APP_SIGNING_KEY and APP_FUNCTION_KEY unless already set.
app_settings() {
  APP_SIGNING_KEY=${APP_SIGNING_KEY:-$(random_secret)}
  APP_FUNCTION_KEY=${APP_FUNCTION_KEY:-$(random_secret)}
  APP_SETTINGS=(
    "TagStorage__ConnectionString=$1"
    "SmsPartner__BaseUrl=$2/v1/"
    "SmsPartner__ApiKey=sim-key"
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

# start_stack configuration: for the end-to-end tests. Needs lib.sh and Azurite (TAGSTATUS_STORAGE) already; refreshes
# every 2 s; exports TAGSTATUS_E2E_BASEURL, TAGSTATUS_E2E_KEY, TAGSTATUS_E2E_SIMULATOR, TAGSTATUS_E2E_SIGNING_KEY.
start_stack() {
  local configuration=${1:-Release} port
  if [ -z "${TAGSTATUS_STORAGE:-}" ]; then log "start_stack needs Azurite first (start_azurite sets TAGSTATUS_STORAGE)"; return 1; fi
  start_simulator "$configuration" || return 1
  app_settings "$TAGSTATUS_STORAGE" "$SIMULATOR_URL" "*/2 * * * * *" "00:00:02"
  APP_SETTINGS+=("TagStorage__TablePrefix=e2e")
  port=$(free_port)
  : >"$stack_logs/localhost.log"
  start_localhost "$configuration" "$port" "$stack_logs/localhost.log" || return 1
  export TAGSTATUS_E2E_BASEURL="http://127.0.0.1:$port"
  export TAGSTATUS_E2E_KEY="$APP_FUNCTION_KEY"
  export TAGSTATUS_E2E_SIMULATOR="$SIMULATOR_URL"
  export TAGSTATUS_E2E_SIGNING_KEY="$APP_SIGNING_KEY"
}
