#!/usr/bin/env bash
# The webhook end-to-end suite's receiver: npm `standardwebhooks` 1.1.1
# (pinned in receiver/package.json and receiver/package-lock.json) in
# receiver/receiver.mjs, which webhooks_test.go runs beside the real binary.
#
#   receiver.sh install   npm ci in receiver/ when node_modules is missing or stale;
#                         Debian's nodejs and npm only when node is missing
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
NAME=receiver.sh
. "$HERE/../nodejs.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

[ $# -eq 1 ] || usage
case $1 in
  install) need_node "standardwebhooks 1.1.1"; npm_ci_when_stale "$HERE/receiver" standardwebhooks ;;
  *) usage ;;
esac
