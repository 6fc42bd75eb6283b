#!/bin/sh
# A throwaway PostgreSQL server for the tests and benchmarks: its own data
# directory, loopback TCP on the given port plus a socket in DIR, trust
# authentication, superuser "pchat", database "pchat".  As root it runs as
# the postgres user (the server refuses to run as root).
#   pg.sh start DIR PORT   initdb if needed, start, create the database
#   pg.sh reset DIR PORT   drop and create the databases: pchat, and
#                          pchat_purge for the tombstone test,
#                          pchat_contract for the Payload contract
#   pg.sh restart DIR      stop (fast: clients are cut off) and start again
#   pg.sh stop DIR         fast shutdown
#   pg.sh params DIR PORT [DB]  the APR DBD (libpq) connection string
#   pg.sh psql DIR PORT    psql on the database (extra args follow)
set -eu
cmd=$1
dir=$2
port=${3:-}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case $cmd in
start)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U pchat --auth=trust \
            -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log"; exit 1; }
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 \
            -c max_connections=300" start >/dev/null
    sh "$0" reset "$dir" "$port"
    ;;
restart)
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -m fast restart >/dev/null
    ;;
reset)
    PGOPTIONS="-c client_min_messages=warning" as_owner "$bin/psql" \
        -h "$dir" -p "$port" -U pchat -d postgres -qAt -v ON_ERROR_STOP=1 \
        -c "DROP DATABASE IF EXISTS pchat" -c "CREATE DATABASE pchat" \
        -c "DROP DATABASE IF EXISTS pchat_purge" \
        -c "CREATE DATABASE pchat_purge" \
        -c "DROP DATABASE IF EXISTS pchat_contract" \
        -c "CREATE DATABASE pchat_contract"
    ;;
stop)
    [ -f "$dir/data/postmaster.pid" ] &&
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
params)
    echo "host=127.0.0.1 port=$port user=pchat dbname=${4:-pchat}"
    ;;
psql)
    shift 3
    as_owner "$bin/psql" -h "$dir" -p "$port" -U pchat -d pchat "$@"
    ;;
*)
    echo "usage: pg.sh start|stop|params|psql DIR [PORT]" >&2
    exit 2
    ;;
esac
