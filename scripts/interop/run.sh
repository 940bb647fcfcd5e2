#!/usr/bin/env bash
# npm run test:interop — the interop suite against real MIT Kerberos (and later Apache).
# Installs the peers when run as root and they are missing; otherwise says what to install.
# Outside CI a missing KDC skips with that message; in CI (CI=true) it fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Every real peer the interop suites start (see shared INTEROP.md); one apt-get for all of them.
PACKAGES="krb5-kdc krb5-admin-server krb5-user apache2 libapache2-mod-auth-gssapi curl python3-gssapi python3-requests-kerberos \
  redis-server slapd ldap-utils libsasl2-modules-gssapi-mit sasl2-bin squid sssd-kcm krb5-k5tls python3-kdcproxy \
  libapache2-mod-wsgi-py3 libkrb5-dev dnsmasq-base samba samba-ad-dc python3-samba winbind openssl"
# A file per package group that tells whether it is installed (binaries are looked up on PATH + sbin).
PEER_FILES="/usr/lib/apache2/modules/mod_auth_gssapi.so /usr/lib/apache2/modules/mod_wsgi.so \
  /usr/lib/x86_64-linux-gnu/krb5/plugins/tls/k5tls.so /usr/lib/python3/dist-packages/kdcproxy/__init__.py \
  /usr/libexec/sssd/sssd_kcm /usr/include/gssapi/gssapi.h"
PEER_BINARIES="apache2 curl openssl redis-server slapd ldapwhoami sasl-sample-server sasl-sample-client squid dnsmasq samba samba-tool"
NEEDED_BINARIES="krb5kdc kdb5_util kadmin.local kinit kvno klist kdestroy"

have() { PATH="$PATH:/usr/sbin:/usr/local/sbin:/sbin" command -v "$1" >/dev/null 2>&1; }

missing=""
for b in $NEEDED_BINARIES; do have "$b" || missing="$missing $b"; done
# The other peers (Apache, redis, slapd, squid, KCM daemons, Samba, kdcproxy) are installed alongside when we can.
apache_missing=0
for b in $PEER_BINARIES; do have "$b" || apache_missing=1; done
for f in $PEER_FILES; do [ -e "$f" ] || apache_missing=1; done
/usr/bin/python3 -c 'import gssapi, requests_kerberos' >/dev/null 2>&1 || apache_missing=1

if [ -n "$missing" ] || [ "$apache_missing" = 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== interop: installing $PACKAGES"
    export DEBIAN_FRONTEND=noninteractive
    # krb5-config asks for a default realm: preseed it so nothing prompts (our tests never use /etc/krb5.conf).
    if command -v debconf-set-selections >/dev/null 2>&1; then
      printf '%s\n' \
        'krb5-config krb5-config/default_realm string EXAMPLE.TEST' \
        'krb5-config krb5-config/kerberos_servers string' \
        'krb5-config krb5-config/admin_server string' \
        'krb5-config krb5-config/add_servers_realm string EXAMPLE.TEST' \
        'krb5-config krb5-config/add_servers boolean false' \
        'krb5-config krb5-config/read_conf boolean true' \
        'krb5-admin-server krb5-admin-server/kadmind boolean false' \
        'krb5-admin-server krb5-admin-server/newrealm note' \
        'krb5-kdc krb5-kdc/debconf boolean false' | debconf-set-selections
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $PACKAGES
    missing=""
    for b in $NEEDED_BINARIES; do have "$b" || missing="$missing $b"; done
  fi
fi

# Heimdal's kcm (a second real KCM daemon) conflicts with MIT's packages: unpack it and the
# Heimdal libraries it loads into a directory of its own (apt-get download + dpkg -x); the KCM
# interop suite runs it from there with LD_LIBRARY_PATH, in its own mount namespace.
HEIMDAL_KCM_ROOT="${SPNEGO_HEIMDAL_KCM_ROOT:-/var/cache/spnego-interop/heimdal-kcm}"
HEIMDAL_KCM_PACKAGES="heimdal-kcm libhcrypto5-heimdal libheimntlm0-heimdal libkrb5-26-heimdal libroken19-heimdal \
  libasn1-8-heimdal libheimbase1-heimdal libhx509-5-heimdal libwind0-heimdal libsqlite3-0"
if [ ! -x "$HEIMDAL_KCM_ROOT/usr/sbin/kcm" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== interop: unpacking heimdal-kcm into $HEIMDAL_KCM_ROOT"
  debs="$(mktemp -d)"
  chmod 755 "$debs"
  if (cd "$debs" && { apt-get download -qq $HEIMDAL_KCM_PACKAGES 2>/dev/null ||
    { apt-get update -qq && apt-get download -qq $HEIMDAL_KCM_PACKAGES; }; }); then
    mkdir -p "$HEIMDAL_KCM_ROOT"
    for deb in "$debs"/*.deb; do dpkg -x "$deb" "$HEIMDAL_KCM_ROOT"; done
  else
    echo "interop: could not download heimdal-kcm; its KCM suite will say so" >&2
  fi
  rm -rf "$debs"
fi
export SPNEGO_HEIMDAL_KCM_ROOT="$HEIMDAL_KCM_ROOT"

if [ -n "$missing" ]; then
  echo "interop: MIT Kerberos binaries missing:$missing" >&2
  echo "  install them with: sudo apt-get install -y $PACKAGES" >&2
  echo "  (or run 'npm run test:interop' as root, which installs them)" >&2
  if [ "${CI:-}" = "true" ]; then
    echo "interop: FAILED (CI=true requires the real KDC)" >&2
    exit 1
  fi
  echo "interop: SKIPPED — nothing was tested" >&2
  exit 0
fi

# Every realm/server the tests start lives under this dir and leaves its pid file there, so the
# cleanup below can stop exactly what we started, by pid, even if a test process crashed.
SPNEGO_INTEROP_TMP="$(mktemp -d "${TMPDIR:-/tmp}/spnego-interop.XXXXXX")"
export SPNEGO_INTEROP_TMP
chmod 755 "$SPNEGO_INTEROP_TMP"

runner_pid=""
cleanup() {
  status=$?
  trap - EXIT INT TERM
  if [ -n "$runner_pid" ]; then
    # The group outlives its leader while any child is left in it.
    kill -TERM -- "-$runner_pid" 2>/dev/null || true
  fi
  # Daemons that left their process group (apache2 -k start, krb5kdc without -n) are found by pid file.
  while IFS= read -r -d '' pidfile; do
    pid="$(tr -dc '0-9' <"$pidfile" || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      echo "interop: stopping leftover pid $pid ($pidfile)" >&2
      kill -TERM "$pid" 2>/dev/null || true
      sleep 1
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done < <(find "$SPNEGO_INTEROP_TMP" -name '*.pid' -print0 2>/dev/null)
  rm -rf "$SPNEGO_INTEROP_TMP"
  exit "$status"
}
trap cleanup EXIT INT TERM

# Own process group (set -m), so cleanup can signal the runner and every child it spawned.
set -m
# `npm run test:interop -- test/interop/x.test.ts …` runs just those files; flags pass through.
roots=()
flags=()
for a in "$@"; do case "$a" in --*) flags+=("$a") ;; *) roots+=("$a") ;; esac; done
[ "${#roots[@]}" -gt 0 ] || roots=(test/interop)
node scripts/run-tests.mjs "${roots[@]}" "${flags[@]}" &
runner_pid=$!
set +m
wait "$runner_pid"
