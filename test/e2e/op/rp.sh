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
MIN_NODE=20.19

die() { echo "rp.sh: $*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

node_ok() { # node_ok: node exists and is at least MIN_NODE
  command -v node >/dev/null || return 1
  node -e '
    const [maj, min] = process.versions.node.split(".").map(Number);
    const [wmaj, wmin] = process.argv[1].split(".").map(Number);
    process.exit(maj > wmaj || (maj === wmaj && min >= wmin) ? 0 : 1);' "$MIN_NODE"
}

cmd_install() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "rp.sh: installing Debian's nodejs and npm"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends nodejs npm; then
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends nodejs npm
    fi
  fi
  node_ok || die "openid-client 6 needs Node.js >= $MIN_NODE, this is $(node --version) ($(command -v node))"
  local pkg want have ok=1
  for pkg in openid-client oauth4webapi jose; do
    want=$(node -p 'require(process.argv[1]).dependencies[process.argv[2]]' "$RP/package.json" "$pkg")
    have=
    if [ -f "$RP/node_modules/$pkg/package.json" ]; then
      have=$(node -p 'require(process.argv[1]).version' "$RP/node_modules/$pkg/package.json")
    fi
    [ "$have" = "$want" ] || ok=
  done
  if [ -n "$ok" ] && [ -f "$RP/node_modules/.package-lock.json" ] &&
     [ ! "$RP/package-lock.json" -nt "$RP/node_modules/.package-lock.json" ]; then
    echo "rp.sh: openid-client $(node -p 'require(process.argv[1]).version' "$RP/node_modules/openid-client/package.json") already installed in $RP/node_modules"
    return 0
  fi
  echo "rp.sh: npm ci in $RP"
  (cd "$RP" && npm ci --no-audit --no-fund --loglevel=error)
}

[ $# -ge 1 ] || usage
command=$1; shift
case $command in
  install) [ $# -eq 0 ] || usage; cmd_install ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
