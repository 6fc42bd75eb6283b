#!/bin/sh
# Starts Apache in the foreground with the module, on 127.0.0.1:$1, with its
# run directory (config, logs, pid, sqlite file) at $2.
set -eu
PORT=$1
RUNDIR=$2
TOP=$(cd "$(dirname "$0")/.." && pwd)
HTTPD=${HTTPD:-/usr/sbin/apache2}

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
    "$RUNDIR/httpd.conf.tmp" > "$RUNDIR/httpd.conf"
rm -f "$RUNDIR/httpd.conf.tmp"
echo "run: http://127.0.0.1:$PORT/ (API at /api/messages); Ctrl-C stops"
exec "$HTTPD" -f "$RUNDIR/httpd.conf" -DFOREGROUND
