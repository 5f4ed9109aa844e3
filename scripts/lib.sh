# Shared by the run and test scripts: tools, free ports, and processes stopped by PID.
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
started_pids=()
started_groups=() # process groups (setsid) whose leader is in started_pids: a host and the worker it started

log() { printf '[tag-status] %s\n' "$*" >&2; }

require() {
  command -v "$1" >/dev/null 2>&1 || { log "missing '$1': $2"; exit 2; }
}

# npm ci only when the lockfile changed since the last install.
ensure_node_tools() {
  require node "install Node.js 20 or later"
  require npm "install Node.js 20 or later (npm comes with it)"
  local stamp="$repo_root/node_modules/.package-lock.json"
  if [ ! -x "$repo_root/node_modules/.bin/azurite-table" ] || [ "$repo_root/package-lock.json" -nt "$stamp" ]; then
    log "installing Azurite from package-lock.json"
    (cd "$repo_root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
}

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

wait_for_port() { # port seconds name
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then log "$3 did not open port $1 within $2 s"; return 1; fi
    sleep 0.2
  done
}

wait_for_url() { # url seconds name
  local deadline=$((SECONDS + $2))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then log "$3 did not answer $1 within $2 s"; return 1; fi
    sleep 0.3
  done
}

# Starts Azurite (blobs, queues and tables: the Functions host keeps timer schedules and locks in blobs, queue triggers
# poll queues) on free loopback ports, in memory; sets AZURITE_TABLE_PORT and TAGSTATUS_STORAGE (all three endpoints).
start_azurite() {
  local blob_port queue_port
  blob_port=$(free_port); queue_port=$(free_port); AZURITE_TABLE_PORT=$(free_port)
  "$repo_root/node_modules/.bin/azurite" --blobHost 127.0.0.1 --blobPort "$blob_port" \
    --queueHost 127.0.0.1 --queuePort "$queue_port" --tableHost 127.0.0.1 --tablePort "$AZURITE_TABLE_PORT" \
    --inMemoryPersistence --silent --disableTelemetry --skipApiVersionCheck >/dev/null 2>&1 &
  started_pids+=($!)
  wait_for_port "$AZURITE_TABLE_PORT" 60 "Azurite tables"
  wait_for_port "$blob_port" 60 "Azurite blobs"
  wait_for_port "$queue_port" 60 "Azurite queues"
  # Azurite's well-known development account; it exists only on this machine.
  TAGSTATUS_STORAGE="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:$blob_port/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue_port/devstoreaccount1;TableEndpoint=http://127.0.0.1:$AZURITE_TABLE_PORT/devstoreaccount1;"
  export AZURITE_TABLE_PORT TAGSTATUS_STORAGE
  log "Azurite on 127.0.0.1: blobs $blob_port, queues $queue_port, tables $AZURITE_TABLE_PORT (pid ${started_pids[-1]})"
}

# Stops one process started here (SIGTERM, then SIGKILL after 5 s) and forgets it.
stop_pid() {
  local pid=$1 kept=() p
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  kill -9 -- "-$pid" 2>/dev/null || true # its group, when it led one
  for p in "${started_pids[@]:-}"; do [ "$p" = "$pid" ] || [ -z "$p" ] || kept+=("$p"); done
  started_pids=("${kept[@]:-}")
}

# Stops what was started, newest first (a host before the storage it releases its locks in): SIGTERM, then SIGKILL
# after 10 s; then whatever a stopped group leader left behind (a worker whose host was killed hard).
stop_started() {
  local i pid
  for ((i = ${#started_pids[@]} - 1; i >= 0; i--)); do
    pid=${started_pids[i]}
    [ -n "$pid" ] || continue
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  for pid in "${started_groups[@]:-}"; do
    [ -n "$pid" ] || continue
    kill -9 -- "-$pid" 2>/dev/null || true
  done
  started_pids=(); started_groups=()
}
