#!/bin/sh
# Installs the Debian package into this machine's Apache, enables it, runs
# the system configtest, serves requests with the installed files, then
# disables and purges it and checks that the machine is as it was: the
# same /etc/apache2, /var/lib/apache2 and installed packages, and no file
# of the package left.  Needs root.  Called by `make deb-test`.
#
# The system Apache service is not started or reloaded: a private httpd
# (its own pid file, error log and port, PCHAT_DEB_PORT, default 9150 on
# 127.0.0.1) loads the installed payloadchat.load/.conf, so a running
# system Apache and its sites are never touched.
set -u
DEB=${1:?usage: deb-test.sh package.deb}
PKG=libapache2-mod-payloadchat
PORT=${PCHAT_DEB_PORT:-9150}
WORK=$(mktemp -d /tmp/pchat-deb.XXXXXX)
HTTPD_PID=""
status=0

fail() {
    echo "deb-test: FAIL: $*"
    status=1
}

# What the package may change, as text to compare before and after.
snapshot() {
    {
        find /etc/apache2 /var/lib/apache2 -printf '%p %M %u %g %l\n' \
            2>/dev/null | sort
        find /etc/apache2 -type f -exec md5sum {} + 2>/dev/null | sort
        dpkg-query -W -f='${Package} ${Version} ${Status}\n' | sort
    } > "$1"
}

leftovers() {
    for f in /usr/lib/apache2/modules/mod_payloadchat.so \
             /etc/apache2/mods-available/payloadchat.load \
             /etc/apache2/mods-available/payloadchat.conf \
             /etc/apache2/mods-enabled/payloadchat.load \
             /usr/share/payloadchat /var/lib/payloadchat \
             /usr/share/doc/$PKG; do
        [ -e "$f" ] && echo "$f"
    done
}

stop_httpd() {
    if [ -n "$HTTPD_PID" ] && kill -0 "$HTTPD_PID" 2>/dev/null; then
        kill "$HTTPD_PID"
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$HTTPD_PID" 2>/dev/null || break
            sleep 1
        done
    fi
    HTTPD_PID=""
}

# Whatever happened, the package goes away again.
cleanup() {
    stop_httpd
    if dpkg-query -W -f='${Status}' $PKG 2>/dev/null | grep -q installed; then
        a2dismod -q payloadchat >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $PKG >/dev/null 2>&1
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

[ "$(id -u)" -eq 0 ] || { echo "deb-test: needs root"; exit 1; }
[ -f "$DEB" ] || { echo "deb-test: no package $DEB"; exit 1; }
# never purge what an administrator installed
if dpkg-query -W -f='${Status}' $PKG 2>/dev/null | grep -q installed \
   || [ -n "$(leftovers)" ]; then
    echo "deb-test: $PKG or its files are already on this machine:"
    leftovers
    trap - EXIT
    exit 1
fi

snapshot "$WORK/before"
# a2enmod/a2dismod keep what the admin decided about payloadchat in
# /var/lib/apache2 (e.g. from an earlier `make uninstall`); purge forgets
# it, so it is put back afterwards
MARKS=$(find /var/lib/apache2 -name payloadchat 2>/dev/null)
[ -z "$MARKS" ] || tar -cpf "$WORK/marks.tar" $MARKS 2>/dev/null

echo "deb-test: apt install ./$(basename "$DEB")"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(realpath "$DEB")" \
    > "$WORK/install.log" 2>&1 || { cat "$WORK/install.log"; fail "install"; }
[ -f /usr/lib/apache2/modules/mod_payloadchat.so ] || fail "no module"
[ -f /usr/share/payloadchat/htdocs/index.html ] || fail "no web client"
[ "$(stat -c %U /var/lib/payloadchat 2>/dev/null)" = www-data ] \
    || fail "/var/lib/payloadchat is not www-data's"
[ -e /etc/apache2/mods-enabled/payloadchat.load ] \
    && fail "installing enabled the module (a2enmod is the admin's step)"

a2enmod -q payloadchat || fail "a2enmod payloadchat"
apache2ctl configtest > "$WORK/configtest.log" 2>&1 \
    || { cat "$WORK/configtest.log"; fail "apache2ctl configtest"; }

# A private httpd with the installed files and the system's MPM.
cat > "$WORK/httpd.conf" <<EOF
ServerRoot /etc/apache2
ServerName 127.0.0.1
DefaultRuntimeDir $WORK
PidFile $WORK/httpd.pid
ErrorLog $WORK/error.log
LogLevel warn
User www-data
Group www-data
Include /etc/apache2/mods-enabled/mpm_*.load
Include /etc/apache2/mods-enabled/mpm_*.conf
Include /etc/apache2/mods-enabled/authz_core.load
Include /etc/apache2/mods-enabled/payloadchat.load
Include /etc/apache2/mods-enabled/payloadchat.conf
Listen 127.0.0.1:$PORT
PayloadChat On
EOF
chmod 755 "$WORK"
/usr/sbin/apache2 -f "$WORK/httpd.conf" -t > "$WORK/t.log" 2>&1 \
    || { cat "$WORK/t.log"; fail "configtest of the private server"; }
/usr/sbin/apache2 -f "$WORK/httpd.conf" -k start \
    || fail "the private server does not start"
for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -s "$WORK/httpd.pid" ] && break
    sleep 1
done
HTTPD_PID=$(cat "$WORK/httpd.pid" 2>/dev/null)
B=http://127.0.0.1:$PORT/api
body=$(curl -s --max-time 10 -X POST "$B/users" \
       -H 'Content-Type: application/json' \
       -d '{"email":"deb@example.com","password":"password123"}')
echo "$body" | grep -q '"email":"deb@example.com"' \
    || fail "POST /api/users answered: $body"
body=$(curl -s --max-time 10 "$B/users/count")
[ "$body" = '{"totalDocs":1}' ] || fail "GET /api/users/count answered: $body"
[ "$(stat -c %U /var/lib/payloadchat/payloadchat.sqlite 2>/dev/null)" = www-data ] \
    || fail "the database is not in /var/lib/payloadchat, owned by www-data"
stop_httpd
grep -E "PCH[0-9]+" "$WORK/error.log" | grep -v PCH00004 | grep -v PCH00201 \
    && fail "unexpected messages of the module in the error log"

a2dismod -q payloadchat || fail "a2dismod payloadchat"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq $PKG \
    > "$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail "purge"; }
[ -f "$WORK/marks.tar" ] && tar -xpf "$WORK/marks.tar" -C /
left=$(leftovers)
[ -z "$left" ] || fail "left after purge: $left"
snapshot "$WORK/after"
diff -u "$WORK/before" "$WORK/after" > "$WORK/diff" \
    || { cat "$WORK/diff"; fail "the machine changed"; }

if [ "$status" -eq 0 ]; then
    echo "deb-test: PASS (installed, enabled, configtest, served, purged, nothing left)"
fi
exit "$status"
