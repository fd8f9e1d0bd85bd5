#!/usr/bin/env bash
# The SCIM end-to-end suite's checker: npm `scimmy` 1.3.5 and `scim-patch`
# 0.8.3 (pinned in checker/package.json and checker/package-lock.json) in
# checker/checker.mjs, which scim_test.go runs against the real binary.
#
#   checker.sh install   npm ci in checker/ when node_modules is missing or stale;
#                        Debian's nodejs and npm only when node is missing
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
NAME=checker.sh
. "$HERE/../nodejs.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

[ $# -eq 1 ] || usage
case $1 in
  install) need_node "scimmy 1.3.5"; npm_ci_when_stale "$HERE/checker" scimmy scim-patch ;;
  *) usage ;;
esac
