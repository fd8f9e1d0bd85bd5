#!/usr/bin/env bash
# The apps of the OpenID Provider end-to-end suite: npm `openid-client` 6
# (with `oauth4webapi` and `jose`, pinned in rp/package.json and
# rp/package-lock.json) in one Node process, rp/rp.mjs, which op_test.go
# starts and drives over its standard input and output.
#
#   rp.sh install   npm ci in rp/ when node_modules is missing or stale;
#                   Debian's nodejs and npm only when node is missing
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
RP=$HERE/rp
NAME=rp.sh
. "$HERE/../nodejs.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

cmd_install() {
  need_node "openid-client 6"
  npm_ci_when_stale "$RP" openid-client oauth4webapi jose
}

[ $# -ge 1 ] || usage
command=$1; shift
case $command in
  install) [ $# -eq 0 ] || usage; cmd_install ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
