#!/usr/bin/env bash
# A scripted OpenID Provider for end-to-end tests: several issuers of npm
# `oidc-provider` 9 (pinned in op/package.json and op/package-lock.json) in one
# Node process on one port of 127.0.0.1 (op/server.mjs). Everything it writes
# lives in the directory it is given.
#
#   op.sh install                      npm ci in op/ when node_modules is missing or stale;
#                                      Debian's nodejs and npm only when node is missing
#   op.sh start DIR PORT CONFIG.json   start http://127.0.0.1:PORT/ in the background (its own
#                                      process group), wait until every issuer's discovery answers
#   op.sh stop DIR                     stop it (the whole process group)
#   op.sh restart DIR                  stop, then start again: same port, config and signing keys
#   op.sh reload DIR                   re-read CONFIG.json (users, issuers, clients; keys are kept)
#   op.sh rotate DIR ISSUER_PATH [--drop-old]
#                                      a new signing key (new kid) becomes the active one; the old
#                                      ones stay in the JWKS unless --drop-old
#   op.sh down DIR [--all] [ISSUER_PATH]
#                                      "IdP down": discovery and JWKS answer 503 (with --all: every
#                                      endpoint of the issuer); no ISSUER_PATH: every issuer
#   op.sh up DIR [ISSUER_PATH]         undo down
#   op.sh client DIR ISSUER_PATH CLIENT_JSON
#                                      add or replace a client (oidc-provider client metadata), e.g.
#                                      once the redirect URI of a new Gatehouse configuration is known
#   op.sh common DIR COMMON_PATH TENANT_ID
#                                      choose the tenant behind an "entra_common" path (/common/v2.0)
#   op.sh state DIR                    issuers, active and published kids, clients, users, down switches
#   op.sh url DIR                      print the base URL (http://127.0.0.1:PORT)
#
# Environment read by `start`:
#   OP_WATCH_PID   stop the server by itself once this process has exited
#                  (a test passes its own PID: no stray server if it is killed)
#
# DIR holds: server.pgid, port, config-path, admin-token (the bearer token for
# /_admin/), keys.json (every issuer's private signing keys, kept across
# restarts), log/server.log. The config format, the users' claims and the
# admin endpoints are described at the top of op/server.mjs.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OP=$HERE/op
NAME=op.sh
. "$HERE/../nodejs.sh"

die() { echo "op.sh: $*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

cmd_install() {
  need_node "oidc-provider 9"
  npm_ci_when_stale "$OP" oidc-provider
}

require_dir() { # require_dir DIR: DIR was started once
  [ -f "$1/port" ] || die "$1 is not an OpenID Provider directory (run start first)"
}

base_url() { echo "http://127.0.0.1:$(cat "$1/port")"; }

. "$HERE/../procgroup.sh"

# ctl DIR METHOD PATH [JSON]: an admin request to the running server.
ctl() {
  local dir=$1 method=$2 p=$3; shift 3
  require_dir "$dir"
  running_pgid "$dir" >/dev/null || die "no OpenID Provider runs from $dir"
  OP_ADMIN_TOKEN=$(cat "$dir/admin-token") node "$OP/ctl.mjs" call "$method" "$(base_url "$dir")$p" "$@"
}

json_str() { # json_str VALUE: VALUE as a JSON string
  node -e 'process.stdout.write(JSON.stringify(process.argv[1]))' "$1"
}

cmd_start() {
  [ $# -eq 3 ] || usage
  local dir port=$2 config=$3
  [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number"
  [ -r "$config" ] || die "cannot read CONFIG $config"
  node_ok || die "Node.js >= $MIN_NODE is missing: run '$0 install'"
  [ -f "$OP/node_modules/oidc-provider/package.json" ] || die "oidc-provider is not installed: run '$0 install'"
  mkdir -p "$1"
  dir=$(cd "$1" && pwd)
  config=$(cd "$(dirname "$config")" && pwd)/$(basename "$config")
  if running_pgid "$dir" >/dev/null; then die "an OpenID Provider already runs from $dir (stop it first)"; fi

  mkdir -p "$dir/log"
  chmod 700 "$dir"
  echo "$port" >"$dir/port"
  echo "$config" >"$dir/config-path"
  [ -s "$dir/admin-token" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/admin-token")

  # setsid: the server gets a process group of its own, which stop kills
  # whole. The new session's leader writes its PID (= the group ID) and
  # becomes node. Output goes to a file so the caller's pipes close.
  # With OP_WATCH_PID, a watchdog in the same group ends it all once that
  # process is gone (a test binary killed before its cleanup could run).
  local watch=${OP_WATCH_PID:-}
  [ -z "$watch" ] || [[ $watch =~ ^[0-9]+$ ]] || die "OP_WATCH_PID must be a process ID"
  rm -f "$dir/server.pgid"
  OP_ADMIN_TOKEN=$(cat "$dir/admin-token") \
    setsid bash -c '
      echo $$ >"$1.tmp" && mv -f "$1.tmp" "$1" || exit 1
      if [ -n "$6" ]; then
        (while kill -0 "$6" 2>/dev/null; do sleep 1; done; kill -TERM -- "-$$") &
      fi
      exec node "$2" --config "$3" --port "$4" --state "$5"' \
    op-server "$dir/server.pgid" "$OP/server.mjs" "$config" "$port" "$dir" "$watch" \
    </dev/null >>"$dir/log/server.log" 2>&1 &
  local pid="" i
  for i in $(seq 1 50); do
    [ -s "$dir/server.pgid" ] && { pid=$(cat "$dir/server.pgid"); break; }
    sleep 0.1
  done
  [ -n "$pid" ] || die "the server did not start; log: $dir/log/server.log"

  local base="http://127.0.0.1:$port"
  for i in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$dir/log/server.log" >&2 || true
      die "the server exited (bad config? port $port taken?); log: $dir/log/server.log"
    fi
    if OP_ADMIN_TOKEN=$(cat "$dir/admin-token") node "$OP/ctl.mjs" ready "$base"; then
      echo "op.sh: OpenID Provider at $base/ (pgid $pid, dir $dir)"
      return 0
    fi
    sleep 0.2
  done
  cmd_stop "$dir" || true
  die "no discovery documents at $base after 30 s; log: $dir/log/server.log"
}

cmd_stop() {
  [ $# -eq 1 ] || usage
  stop_group "$1"
}

cmd_restart() {
  [ $# -eq 1 ] || usage
  require_dir "$1"
  cmd_stop "$1"
  cmd_start "$1" "$(cat "$1/port")" "$(cat "$1/config-path")"
}

cmd_rotate() {
  [ $# -eq 2 ] || [ $# -eq 3 ] || usage
  local keep=true
  if [ $# -eq 3 ]; then
    [ "$3" = --drop-old ] || usage
    keep=false
  fi
  ctl "$1" POST /_admin/rotate "{\"issuer\": $(json_str "$2"), \"keep_old\": $keep}"
}

cmd_down() {
  [ $# -ge 1 ] || usage
  local dir=$1 what=metadata issuer=; shift
  while [ $# -gt 0 ]; do
    case $1 in
      --all) what=all ;;
      /*) issuer=$1 ;;
      *) usage ;;
    esac
    shift
  done
  ctl "$dir" POST /_admin/down "{\"what\": \"$what\"${issuer:+, \"issuer\": $(json_str "$issuer")}}"
}

cmd_up() {
  [ $# -eq 1 ] || [ $# -eq 2 ] || usage
  local issuer=${2:-}
  ctl "$1" POST /_admin/up "{${issuer:+\"issuer\": $(json_str "$issuer")}}"
}

cmd_client() {
  [ $# -eq 3 ] || usage
  ctl "$1" POST /_admin/client "{\"issuer\": $(json_str "$2"), \"client\": $3}"
}

cmd_common() {
  [ $# -eq 3 ] || usage
  ctl "$1" POST /_admin/common "{\"issuer\": $(json_str "$2"), \"tenant_id\": $(json_str "$3")}"
}

cmd_reload() {
  [ $# -eq 1 ] || usage
  ctl "$1" POST /_admin/reload
}

cmd_state() {
  [ $# -eq 1 ] || usage
  ctl "$1" GET /_admin/state
}

cmd_url() {
  [ $# -eq 1 ] || usage
  require_dir "$1"
  base_url "$1"
}

[ $# -ge 1 ] || usage
command=$1; shift
case $command in
  install) cmd_install "$@" ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  restart) cmd_restart "$@" ;;
  reload) cmd_reload "$@" ;;
  rotate) cmd_rotate "$@" ;;
  down) cmd_down "$@" ;;
  up) cmd_up "$@" ;;
  client) cmd_client "$@" ;;
  common) cmd_common "$@" ;;
  state) cmd_state "$@" ;;
  url) cmd_url "$@" ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
