#!/bin/sh
# Starts Apache in the foreground with the module, on 127.0.0.1:$1, with its
# run directory (config, logs, pid, sqlite file) at $2.  $3, when given, is
# a config file of the site's own, included after the defaults (so its
# directives win).  Refuses, before it writes anything, when an instance
# already runs in that directory.
set -eu
PORT=$1
RUNDIR=$2
SITE_CONF=${3:-}
TOP=$(cd "$(dirname "$0")/.." && pwd)
HTTPD=${HTTPD:-/usr/sbin/apache2}

case "$RUNDIR" in /*) ;; *) RUNDIR="$(pwd)/$RUNDIR" ;; esac
if [ -f "$RUNDIR/httpd.pid" ]; then
    pid=$(cat "$RUNDIR/httpd.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null \
            | grep -qF -- "$RUNDIR/httpd.conf"; then
        echo "run: an instance already runs in $RUNDIR (pid $pid); stop it" \
             "first, or pick another RUNDIR=" >&2
        exit 1
    fi
fi
if [ -n "$SITE_CONF" ]; then
    case "$SITE_CONF" in /*) ;; *) SITE_CONF="$(pwd)/$SITE_CONF" ;; esac
    if [ ! -r "$SITE_CONF" ]; then
        echo "run: cannot read CONF=$SITE_CONF" >&2
        exit 1
    fi
fi

mkdir -p "$RUNDIR/db"
USERGROUP=""
if [ "$(id -u)" -eq 0 ]; then
    # httpd refuses to serve as root: children run as www-data, who must
    # reach htdocs and own the database directory.
    USERGROUP="User www-data
Group www-data"
    chown www-data:www-data "$RUNDIR/db"
    if ! runuser -u www-data -- test -r "$TOP/htdocs/index.html"; then
        echo "run: www-data cannot read $TOP/htdocs (a parent directory is" \
             "not searchable); clone the repository under /srv or /tmp." >&2
        exit 1
    fi
fi
sed -e "s|@RUNDIR@|$RUNDIR|g" -e "s|@TOP@|$TOP|g" -e "s|@PORT@|$PORT|g" \
    "$TOP/conf/httpd.conf.in" > "$RUNDIR/httpd.conf.tmp"
awk -v ug="$USERGROUP" '{ if ($0 == "@USERGROUP@") print ug; else print }' \
    "$RUNDIR/httpd.conf.tmp" > "$RUNDIR/httpd.conf.new"
rm -f "$RUNDIR/httpd.conf.tmp"
if [ -n "$SITE_CONF" ]; then
    printf '\n# The site'"'"'s own settings (make run CONF=...)\nInclude "%s"\n' \
        "$SITE_CONF" >> "$RUNDIR/httpd.conf.new"
fi
if ! "$HTTPD" -t -f "$RUNDIR/httpd.conf.new" 2>"$RUNDIR/configtest.log"; then
    cat "$RUNDIR/configtest.log" >&2
    echo "run: the configuration test failed (kept as $RUNDIR/httpd.conf.new)" >&2
    exit 1
fi
mv "$RUNDIR/httpd.conf.new" "$RUNDIR/httpd.conf"
echo "run: http://127.0.0.1:$PORT/ (API at /api/messages); Ctrl-C stops"
exec "$HTTPD" -f "$RUNDIR/httpd.conf" -DFOREGROUND
