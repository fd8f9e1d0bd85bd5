#!/usr/bin/env bash
# A scripted SimpleSAMLphp 1.19 SAML 2.0 IdP (Debian's `simplesamlphp`) for
# end-to-end tests. Everything it writes lives in the directory it is given;
# /etc/simplesamlphp is never read or changed.
#
#   idp.sh install                     install the Debian packages when missing
#   idp.sh start DIR PORT              write DIR, start http://127.0.0.1:PORT/, wait for metadata
#   idp.sh stop DIR                    stop the server (its whole process group)
#   idp.sh restart DIR                 stop, then start again on the same port
#   idp.sh sp DIR ENTITY_ID ACS_URL [nameid=email|persistent] [sign=both|assertion|response]
#                                      [sigalg=sha256|sha384|sha512] [authnrequest-cert=PEM_FILE]
#                                      add or replace a remote SP (no restart needed)
#   idp.sh sp-remove DIR ENTITY_ID     forget a remote SP
#   idp.sh cert DIR 1|2                choose the signing key pair idpN.{key,crt} (rollover);
#                                      read on every request, so no restart is needed
#   idp.sh url DIR                     print the base URL (http://127.0.0.1:PORT)
#
# Environment read by `start`:
#   IDP_SIGNING_CERT=1|2   signing key pair to use (default: keep DIR's choice, else 1)
#   IDP_SPS                remote SPs to register, one a line: ENTITY_ID ACS_URL [options as for `sp`]
#   IDP_WATCH_PID          stop the server by itself once this process has exited
#                          (a test passes its own PID: no stray server if it is killed)
#   IDP_USERS              the users, one a line: USERNAME PASSWORD EMAIL [DISPLAY NAME...]
#                          (default: the two below)
#
# Users (exampleauth:UserPass source "example-userpass"), by default:
#   alice / alicepass   uid=alice  email=mail=alice@example.com
#   bob   / bobpass     uid=bob    email=mail=bob@example.com
#
# Endpoints: metadata and entity ID  /saml2/idp/metadata.php
#            SSO (Redirect and POST) /saml2/idp/SSOService.php
#            IdP-initiated           /saml2/idp/SSOService.php?spentityid=<urlencoded SP entity ID>
set -euo pipefail

SSP_WWW=/usr/share/simplesamlphp/www
PACKAGES=(simplesamlphp php-cli php-xml php-mbstring xmlsec1)

die() { echo "idp.sh: $*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# php_str VALUE: VALUE as a single-quoted PHP string literal.
php_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\'/\\\'}
  printf "'%s'" "$s"
}

cmd_install() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "idp.sh: ${PACKAGES[*]} already installed"
    return 0
  fi
  echo "idp.sh: installing ${missing[*]}"
  local updated=
  # Refresh the package lists only when they do not know a package yet.
  for p in "${missing[@]}"; do
    if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      apt-get update -qq; updated=1; break
    fi
  done
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"; then
    # Stale lists point at files the mirror no longer has: refresh once and retry.
    [ -z "$updated" ] || die "apt-get install failed"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}"
  fi
}

# sp_file DIR ENTITY_ID: where the SP's metadata entry is kept.
sp_file() {
  local hash
  hash=$(printf '%s' "$2" | sha256sum | cut -c1-16)
  printf '%s/metadata/sp.d/%s.php' "$1" "$hash"
}

cmd_sp() {
  [ $# -ge 3 ] || usage
  local dir=$1 entity=$2 acs=$3; shift 3
  [ -d "$dir/metadata" ] || die "$dir is not an IdP directory (run start first)"
  local nameid=email sign=both sigalg=sha256 reqcert= opt
  for opt in "$@"; do
    case $opt in
      nameid=email|nameid=persistent) nameid=${opt#nameid=} ;;
      sign=both|sign=assertion|sign=response) sign=${opt#sign=} ;;
      # RSA with this hash; SimpleSAMLphp's SAML2 library picks the same hash
      # for the References' DigestMethod.
      sigalg=sha256|sigalg=sha384|sigalg=sha512) sigalg=${opt#sigalg=} ;;
      authnrequest-cert=*) reqcert=${opt#authnrequest-cert=}
        [ -r "$reqcert" ] || die "authnrequest-cert: cannot read $reqcert" ;;
      *) die "unknown SP option '$opt' (nameid=email|persistent, sign=both|assertion|response, sigalg=sha256|sha384|sha512, authnrequest-cert=FILE)" ;;
    esac
  done
  local sign_response=true sign_assertion=true
  case $sign in
    assertion) sign_response=false ;;
    response) sign_assertion=false ;;
  esac
  local file tmp
  file=$(sp_file "$dir" "$entity")
  tmp=$(mktemp "$dir/metadata/sp.d/.tmp.XXXXXX")
  {
    echo "<?php"
    echo "// idp.sh sp: nameid=$nameid sign=$sign sigalg=$sigalg${reqcert:+ authnrequest-cert}"
    echo "return ["
    echo "    'entityid' => $(php_str "$entity"),"
    echo "    'AssertionConsumerService' => [["
    echo "        'Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',"
    echo "        'Location' => $(php_str "$acs"),"
    echo "        'index' => 0,"
    echo "    ]],"
    if [ "$nameid" = email ]; then
      echo "    'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',"
      echo "    'simplesaml.nameidattribute' => 'email',"
    else
      # An opaque, stable value per (IdP, SP, user): sha1 of the secret salt, the
      # two entity IDs and the user's uid.
      echo "    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',"
      echo "    'authproc' => ["
      echo "        10 => ['class' => 'saml:PersistentNameID', 'attribute' => 'uid'],"
      echo "    ],"
    fi
    echo "    'assertion.encryption' => false,"
    echo "    'saml20.sign.response' => $sign_response,"
    echo "    'saml20.sign.assertion' => $sign_assertion,"
    echo "    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-$sigalg',"
    if [ -n "$reqcert" ]; then
      echo "    'validate.authnrequest' => true,"
      echo "    'certData' => $(php_str "$(grep -v -- '-----' "$reqcert" | tr -d '\r\n')"),"
    else
      echo "    'validate.authnrequest' => false,"
    fi
    echo "];"
  } >"$tmp"
  mv -f "$tmp" "$file"   # atomic: a request never sees half a file
  echo "idp.sh: SP $entity -> $acs (nameid=$nameid sign=$sign sigalg=$sigalg${reqcert:+, AuthnRequests must be signed})"
}

cmd_sp_remove() {
  [ $# -eq 2 ] || usage
  rm -f "$(sp_file "$1" "$2")"
}

cmd_cert() {
  [ $# -eq 2 ] || usage
  case $2 in 1|2) ;; *) die "cert: choose 1 or 2" ;; esac
  [ -f "$1/cert/idp$2.key" ] || die "$1 has no key pair $2 (run start first)"
  echo "$2" >"$1/active-cert.tmp" && mv -f "$1/active-cert.tmp" "$1/active-cert"
}

cmd_url() {
  [ $# -eq 1 ] || usage
  [ -f "$1/port" ] || die "$1 has no port (run start first)"
  echo "http://127.0.0.1:$(cat "$1/port")"
}

. "$(cd "$(dirname "$0")" && pwd)/../procgroup.sh"

write_config() {
  local dir=$1 port=$2 base="http://127.0.0.1:$2"
  local salt admin
  [ -f "$dir/secret" ] || head -c 32 /dev/urandom | sha256sum | cut -c1-40 >"$dir/secret"
  salt=$(cat "$dir/secret")
  admin=${salt:0:16}

  cat >"$dir/config/config.php" <<PHP
<?php
// Written by idp.sh start; rewritten on every start.
\$config = [
    'baseurlpath' => '$base/',
    'application' => ['baseURL' => '$base/'],
    'certdir' => '$dir/cert/',
    'metadatadir' => '$dir/metadata/',
    'loggingdir' => '$dir/log/',
    'datadir' => '$dir/data/',
    'tempdir' => '$dir/tmp/',

    'technicalcontact_name' => 'Gatehouse e2e',
    'technicalcontact_email' => 'e2e@example.com',
    'secretsalt' => '$salt',
    'auth.adminpassword' => '$admin',
    'admin.protectindexpage' => false,
    'admin.protectmetadata' => false,
    'timezone' => 'UTC',
    'debug' => ['saml' => false, 'backtraces' => true, 'validatexml' => false],
    'showerrors' => true,
    'errorreporting' => false,

    'logging.level' => SimpleSAML\Logger::INFO,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',

    'enable.saml20-idp' => true,
    'enable.shib13-idp' => false,
    'enable.adfs-idp' => false,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],

    // Plain http on 127.0.0.1: a Secure or SameSite=None cookie would never come back.
    // Cookie names carry the port: browsers and Go cookie jars ignore ports, so two
    // IdPs (or an IdP and the SP under test) on 127.0.0.1 must not share names.
    'session.cookie.secure' => false,
    'session.cookie.samesite' => 'Lax',
    'session.cookie.path' => '/',
    'session.cookie.domain' => null,
    'session.cookie.name' => 'SSPSession$port',
    'session.phpsession.cookiename' => 'SSPPHPSESS$port',
    'session.authtoken.cookiename' => 'SSPAuthToken$port',
    'session.phpsession.savepath' => '$dir/sessions',
    'session.duration' => 8 * 60 * 60,
    'session.rememberme.enable' => false,
    'store.type' => 'phpsession',
    'language.cookie.name' => 'SSPLang$port',
    'language.cookie.secure' => false,
    'language.cookie.samesite' => 'Lax',
];
PHP

  local users=${IDP_USERS:-"alice alicepass alice@example.com Alice Example
bob bobpass bob@example.com Bob Example"}
  {
    echo "<?php"
    echo "// Written by idp.sh start."
    echo "\$config = ["
    echo "    'admin' => ['core:AdminPassword'],"
    echo "    'example-userpass' => ["
    echo "        'exampleauth:UserPass',"
    local username password email name line
    while IFS= read -r line; do
      [ -n "${line//[[:space:]]/}" ] || continue
      read -r username password email name <<<"$line"
      [ -n "$email" ] || die "IDP_USERS: want USERNAME PASSWORD EMAIL [NAME] a line, got '$line'"
      [ -n "$name" ] || name=$username
      echo "        $(php_str "$username:$password") => ["
      echo "            'uid' => [$(php_str "$username")],"
      echo "            'email' => [$(php_str "$email")],"
      echo "            'mail' => [$(php_str "$email")],"
      echo "            'givenName' => [$(php_str "${name%% *}")],"
      echo "            'sn' => [$(php_str "${name#* }")],"
      echo "            'displayName' => [$(php_str "$name")],"
      echo "            'eduPersonAffiliation' => ['member'],"
      echo "        ],"
    done <<<"$users"
    echo "    ],"
    echo "];"
  } >"$dir/config/authsources.php"

  cat >"$dir/metadata/saml20-idp-hosted.php" <<PHP
<?php
// Written by idp.sh start. The signing key pair is chosen by the file
// active-cert (1 or 2, see idp.sh cert), read on every request.
\$active = trim((string) @file_get_contents('$dir/active-cert'));
if (\$active !== '1' && \$active !== '2') {
    \$active = '1';
}
\$metadata['$base/saml2/idp/metadata.php'] = [
    'host' => '__DEFAULT__',
    'privatekey' => '$dir/cert/idp' . \$active . '.key',
    'certificate' => '$dir/cert/idp' . \$active . '.crt',
    'auth' => 'example-userpass',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress',
    'simplesaml.nameidattribute' => 'email',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:basic',
    'assertion.lifetime' => 300,
    // Advertise both AuthnRequest bindings; SSOService.php accepts either.
    'SingleSignOnServiceBinding' => [
        'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
        'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST',
    ],
];
PHP

  cat >"$dir/metadata/saml20-sp-remote.php" <<'PHP'
<?php
// Written by idp.sh start: one file per SP in sp.d/ (see idp.sh sp), read on every request.
foreach (glob(__DIR__ . '/sp.d/*.php') ?: [] as $file) {
    $sp = require $file;
    $metadata[$sp['entityid']] = $sp;
}
PHP
}

cmd_start() {
  [ $# -eq 2 ] || usage
  local dir port=$2
  [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number"
  command -v php >/dev/null && [ -d "$SSP_WWW" ] || die "SimpleSAMLphp is not installed: run '$0 install'"
  mkdir -p "$1"
  dir=$(cd "$1" && pwd)
  [[ $dir != *"'"* && $dir != *\\* ]] || die "DIR must not contain quotes or backslashes"
  if running_pgid "$dir" >/dev/null; then die "an IdP already runs from $dir (stop it first)"; fi

  mkdir -p "$dir"/{config,metadata/sp.d,cert,log,data,tmp,sessions}
  chmod 700 "$dir/cert" "$dir/sessions"
  echo "$port" >"$dir/port"

  local n
  for n in 1 2; do
    [ -f "$dir/cert/idp$n.key" ] && [ -f "$dir/cert/idp$n.crt" ] && continue
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 \
      -subj "/CN=Gatehouse e2e SimpleSAMLphp IdP key $n" \
      -keyout "$dir/cert/idp$n.key" -out "$dir/cert/idp$n.crt" 2>/dev/null
  done
  if [ -n "${IDP_SIGNING_CERT:-}" ]; then
    cmd_cert "$dir" "$IDP_SIGNING_CERT"
  elif [ ! -f "$dir/active-cert" ]; then
    cmd_cert "$dir" 1
  fi

  write_config "$dir" "$port"

  if [ -n "${IDP_SPS:-}" ]; then
    local line
    while IFS= read -r line; do
      [ -n "${line//[[:space:]]/}" ] || continue
      # shellcheck disable=SC2086 # word splitting is the format
      cmd_sp "$dir" $line
    done <<<"$IDP_SPS"
  fi

  # setsid: the server and its workers get a process group of their own, which
  # stop kills whole. The new session's leader writes its PID (= the group ID)
  # and becomes php, whether or not setsid had to fork. Output goes to a file
  # so the caller's pipes close.
  # With IDP_WATCH_PID, a watchdog in the same group ends it all once that
  # process is gone (a test binary killed before its cleanup could run).
  local watch=${IDP_WATCH_PID:-}
  [ -z "$watch" ] || [[ $watch =~ ^[0-9]+$ ]] || die "IDP_WATCH_PID must be a process ID"
  rm -f "$dir/server.pgid"
  SIMPLESAMLPHP_CONFIG_DIR="$dir/config" PHP_CLI_SERVER_WORKERS=4 \
    setsid bash -c '
      echo $$ >"$1.tmp" && mv -f "$1.tmp" "$1" || exit 1
      if [ -n "$4" ]; then
        (while kill -0 "$4" 2>/dev/null; do sleep 1; done; kill -TERM -- "-$$") &
      fi
      exec php -S "127.0.0.1:$2" -t "$3"' \
    idp-server "$dir/server.pgid" "$port" "$SSP_WWW" "$watch" \
    </dev/null >>"$dir/log/server.log" 2>&1 &
  local pid="" i
  for i in $(seq 1 50); do
    [ -s "$dir/server.pgid" ] && { pid=$(cat "$dir/server.pgid"); break; }
    sleep 0.1
  done
  [ -n "$pid" ] || die "the server did not start; log: $dir/log/server.log"

  local url="http://127.0.0.1:$port/saml2/idp/metadata.php"
  for i in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$dir/log/server.log" >&2 || true
      die "the server exited (port $port taken?); log: $dir/log/server.log"
    fi
    if php -r '$c = stream_context_create(["http" => ["timeout" => 2]]);
               $b = @file_get_contents($argv[1], false, $c);
               exit($b !== false && strpos($b, "EntityDescriptor") !== false ? 0 : 1);' "$url"; then
      echo "idp.sh: SimpleSAMLphp IdP at http://127.0.0.1:$port/ (metadata $url, pgid $pid, dir $dir)"
      return 0
    fi
    sleep 0.2
  done
  cmd_stop "$dir" || true
  die "no metadata at $url after 30 s; logs: $dir/log/"
}

cmd_stop() {
  [ $# -eq 1 ] || usage
  stop_group "$1"
}

cmd_restart() {
  [ $# -eq 1 ] || usage
  [ -f "$1/port" ] || die "$1 has no port (run start first)"
  cmd_stop "$1"
  cmd_start "$1" "$(cat "$1/port")"
}

[ $# -ge 1 ] || usage
command=$1; shift
case $command in
  install) cmd_install "$@" ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  restart) cmd_restart "$@" ;;
  sp) cmd_sp "$@" ;;
  sp-remove) cmd_sp_remove "$@" ;;
  cert) cmd_cert "$@" ;;
  url) cmd_url "$@" ;;
  -h|--help|help) usage ;;
  *) usage ;;
esac
