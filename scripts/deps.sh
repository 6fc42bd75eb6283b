#!/bin/sh
# Installs the Debian packages the build, the service and the tests need,
# but only those that are missing; works as root or through sudo.
set -eu
PKGS="apache2 apache2-dev libaprutil1-dbd-sqlite3 libjansson-dev libssl-dev
sqlite3 curl make gcc"
[ $# -gt 0 ] && PKGS="$PKGS $*"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
# mod_perl's package enables it in the system Apache; the tests only need
# Apache::Test from it, so a copy we installed is switched off there.
case " $missing " in
*" libapache2-mod-perl2 "*)
    command -v a2dismod >/dev/null && $SUDO a2dismod -q perl >/dev/null 2>&1 || true ;;
esac
