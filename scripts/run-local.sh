#!/usr/bin/env bash
# The run command: Tag Status with its stand-ins on this machine, on loopback only. Starts Azurite, the SMS Partner
# simulator (a "demo" campaign settling over 30-150 s, and "montag"), a callback receiver, and the app: under the real
# Azure Functions host when there is one (FUNCTIONS_HOST_RUNNER, e.g. ../shared/functions-host/run-host.sh, or Core
# Tools' `func start`), else under src/TagStatus.LocalHost (same routes, handlers and timer).
# Registers "demo" and subscribes the receiver, prints what to try, and runs until Ctrl-C, which stops all it started.
#   CONFIGURATION=Release   build configuration (default Debug)
#   FUNCTIONS_HOST_RUNNER=path  run under the real host through this runner (run-host.sh's arguments)
#   TAGSTATUS_HOST=localhost  use the LocalHost even where a real host is available
#   RefreshSchedule='*/10 * * * * *'  the timer's NCRONTAB (default every 10 s here, so the demo moves visibly)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$repo_root/scripts/start-stack.sh"
cd "$repo_root"

cleanup() {
  trap - EXIT INT TERM
  stop_started
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require dotnet "install the .NET 10 SDK"
require curl "install curl"
ensure_node_tools

configuration=${CONFIGURATION:-Debug}
runner=""
if [ "${TAGSTATUS_HOST:-}" != "localhost" ]; then runner=$(functions_host_runner) || exit 2; fi
app_project=TagStatus.LocalHost
[ -z "$runner" ] || app_project=TagStatus.Functions

for project in SmsPartner.Simulator "$app_project"; do
  log "building $project ($configuration)"
  dotnet build "src/$project" -c "$configuration" -nologo -v:q -clp:ErrorsOnly >&2
done

start_azurite

start_simulator "$configuration" --Simulator:Demo=true

# A fixed local key, the one TagStatus.http uses: this server listens on loopback only.
APP_FUNCTION_KEY=${APP_FUNCTION_KEY:-local-dev-key}
app_settings "$TAGSTATUS_STORAGE" "$SIMULATOR_URL" "${RefreshSchedule:-*/10 * * * * *}" "00:00:10"

# A callback receiver, as a subscriber would write one: checks the Standard Webhooks signature (webhook-id,
# webhook-timestamp, webhook-signature) with the subscription's whsec_ secret over the raw body, prints the event. The
# secret is known once the script has subscribed below: it is written to $webhook_secret_file, read at each request.
receiver_port=$(free_port)
webhook_secret_file=$(mktemp)
WEBHOOK_SECRET_FILE="$webhook_secret_file" PORT="$receiver_port" node -e '
const http = require("http"), crypto = require("crypto"), fs = require("fs");
http.createServer((req, res) => {
  const chunks = [];
  req.on("data", c => chunks.push(c)).on("end", () => {
    const body = Buffer.concat(chunks);
    const secret = fs.readFileSync(process.env.WEBHOOK_SECRET_FILE, "utf8").trim();
    const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
    const id = req.headers["webhook-id"], ts = req.headers["webhook-timestamp"];
    const expected = Buffer.from("v1," + crypto.createHmac("sha256", key).update(`${id}.${ts}.`).update(body).digest("base64"));
    const fresh = Math.abs(Date.now() / 1000 - Number(ts)) < 300;
    const valid = fresh && String(req.headers["webhook-signature"] || "").split(" ").map(s => Buffer.from(s))
      .some(given => given.length === expected.length && crypto.timingSafeEqual(given, expected));
    let e = {}; try { e = JSON.parse(body); } catch {}
    console.log(`[callback] ${e.type} ${e.tag}: ${e.data && e.data.state} ${JSON.stringify(e.data && e.data.counts)}` +
      ` (event ${id}, signature ${valid ? "valid" : "INVALID"})`);
    res.statusCode = valid ? 204 : 401; res.end();
  });
}).listen(Number(process.env.PORT), "127.0.0.1");' &
started_pids+=($!)
wait_for_port "$receiver_port" 30 "the callback receiver"
callback_url="http://127.0.0.1:$receiver_port/tag-status"

app_port=7071
if (exec 3<>/dev/tcp/127.0.0.1/$app_port) 2>/dev/null; then app_port=$(free_port); log "port 7071 is taken; using $app_port"; fi
base="http://127.0.0.1:$app_port"
admin_hint=""
if [ -n "$runner" ]; then
  log "starting the Functions app under the real Azure Functions host ($runner)"
  start_functions_host "$configuration" "$runner" "$app_port" /dev/stderr
  host_name="Azure Functions host ($runner)"
  [ "$runner" != func ] || host_name+="; func start checks no keys locally"
  admin_hint="curl -X POST -H 'x-functions-key: $FUNCTIONS_MASTER_KEY' -H 'Content-Type: application/json' -d '{}' $base/admin/functions/RefreshPendingTags   # run the timer now"
else
  log "no real Azure Functions host here (FUNCTIONS_HOST_RUNNER unset, Core Tools not found): starting src/TagStatus.LocalHost"
  start_localhost "$configuration" "$app_port"
  host_name="LocalHost (ASP.NET Core; same routes, handlers and timer as the Functions app)"
fi

key_header="x-functions-key: $APP_FUNCTION_KEY"
curl -fsS -o /dev/null -H "$key_header" -H 'Content-Type: application/json' -d '{"tag":"demo"}' "$base/api/tags"
curl -fsS -H "$key_header" -H 'Content-Type: application/json' -d "{\"callbackUrl\":\"$callback_url\"}" \
  "$base/api/tags/demo/subscriptions" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).secret))' \
  >"$webhook_secret_file"

cat >&2 <<INFO

  Tag Status      $base/api   $host_name
  function key    $APP_FUNCTION_KEY
  SMS Partner     $SIMULATOR_URL/v1/   (simulator; admin API at $SIMULATOR_URL/_admin)
  callbacks to    $callback_url   (Standard Webhooks; the subscription's secret is in $webhook_secret_file)
  refresh         RefreshSchedule '${RefreshSchedule:-*/10 * * * * *}'
  health          $base/api/health   (the dashboard's numbers: refresh backlog, oldest lateness, queue lengths)

  The "demo" campaign (25 messages) is registered and settles over 30-150 s; its callbacks print as [callback] lines.
  Try:
    curl -H '$key_header' $base/api/tags/montag
    curl -H '$key_header' $base/api/tags/demo/completion     # 202 while pending, 200 once complete
    curl -H '$key_header' -H 'Accept: text/csv' $base/api/tags/demo
    curl -H '$key_header' '$base/api/tags?state=complete'
    curl -H '$key_header' $base/api/health                   # what Azure Monitor charts: backlog and queues
    ${admin_hint}

  Ctrl-C stops everything started here.

INFO

wait "${started_pids[-1]}"
