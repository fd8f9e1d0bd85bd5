# Shared by the end-to-end IdP scripts (saml/idp.sh, oidc/op.sh), which run
# each server in a process group of its own, recorded in DIR/server.pgid.
# Sourced, not run.

running_pgid() { # running_pgid DIR: print the server's process group if it runs
  local f=$1/server.pgid pgid
  [ -f "$f" ] || return 1
  pgid=$(cat "$f")
  [ -n "$pgid" ] && kill -0 -- "-$pgid" 2>/dev/null || return 1
  echo "$pgid"
}

stop_group() { # stop_group DIR: end DIR's server and every process it started
  local dir=$1 pgid i
  pgid=$(running_pgid "$dir") || { rm -f "$dir/server.pgid"; return 0; }
  kill -TERM -- "-$pgid" 2>/dev/null || true
  for i in $(seq 1 50); do
    kill -0 -- "-$pgid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pgid" 2>/dev/null || true
  rm -f "$dir/server.pgid"
}
