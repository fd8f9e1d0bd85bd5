# Shared by the end-to-end scripts that run npm packages (oidc/op.sh,
# op/rp.sh): Node.js from Debian when it is missing, and `npm ci` in a
# package directory when its pinned packages are not what is installed.
# Sourced, not run; the sourcing script sets NAME (its name, for messages).

MIN_NODE=20.19

node_ok() { # node_ok: node exists and is at least MIN_NODE
  command -v node >/dev/null || return 1
  node -e '
    const [maj, min] = process.versions.node.split(".").map(Number);
    const [wmaj, wmin] = process.argv[1].split(".").map(Number);
    process.exit(maj > wmaj || (maj === wmaj && min >= wmin) ? 0 : 1);' "$MIN_NODE"
}

need_node() { # need_node WHAT: Debian's nodejs and npm when missing; WHAT needs MIN_NODE
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "$NAME: installing Debian's nodejs and npm"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends nodejs npm; then
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends nodejs npm
    fi
  fi
  node_ok || { echo "$NAME: $1 needs Node.js >= $MIN_NODE, this is $(node --version) ($(command -v node))" >&2; exit 1; }
}

npm_ci_when_stale() { # npm_ci_when_stale DIR PACKAGE...: npm ci in DIR unless each PACKAGE is installed at its pinned version from the current lock file
  local dir=$1 pkg want have ok=1
  shift
  for pkg in "$@"; do
    want=$(node -p 'require(process.argv[1]).dependencies[process.argv[2]]' "$dir/package.json" "$pkg")
    have=
    if [ -f "$dir/node_modules/$pkg/package.json" ]; then
      have=$(node -p 'require(process.argv[1]).version' "$dir/node_modules/$pkg/package.json")
    fi
    [ "$have" = "$want" ] || ok=
  done
  if [ -n "$ok" ] && [ -f "$dir/node_modules/.package-lock.json" ] &&
     [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "$NAME: $* already installed in $dir/node_modules"
    return 0
  fi
  echo "$NAME: npm ci in $dir"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}
