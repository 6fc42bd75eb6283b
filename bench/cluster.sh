#!/bin/sh
# Scale-out benchmark, in one run: POST throughput and stream delivery
# latency for one node on sqlite (the baseline), one node on PostgreSQL,
# and two nodes on one PostgreSQL with the subscribers spread over both
# (half of all deliveries cross nodes).  Prints requests/s, p50/p99.
set -eu
. "$(dirname "$0")/common.sh"
N=${CLUSTER_N:-1000}
DUR=${DUR:-10s}
APORT=${APORT:-18092}
BPORT=${BPORT:-18093}
PGPORT=${PGPORT:-25490}
OUT="$TOP/bench/out"
sh "$TOP/scripts/deps.sh" wrk postgresql libaprutil1-dbd-pgsql
make -C "$TOP" -s build >/dev/null
mkdir -p "$OUT"
build_sseload "$OUT/sseload"
PGDIR=$(mktemp -d /tmp/pchat-bench-pg.XXXXXX)
chmod 755 "$PGDIR"

cleanup() {
    stop_apache "$OUT/node-a" 2>/dev/null || true
    stop_apache "$OUT/node-b" 2>/dev/null || true
    sh "$TOP/scripts/pg.sh" stop "$PGDIR" 2>/dev/null || true
    rm -rf "$PGDIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
sh "$TOP/scripts/pg.sh" start "$PGDIR" "$PGPORT"
PG="PayloadChatDatabase pgsql \"$(sh "$TOP/scripts/pg.sh" params "$PGDIR" "$PGPORT")\""
NODE="ThreadsPerChild 32
MaxRequestWorkers 64
ServerLimit 2
PayloadChatStreamMaxSubscribers 20000
PayloadChatStreamMaxPerClient 20000"

seed_users() {
    for u in a b; do
        curl -H "Content-Type: application/json" -sf -o /dev/null -X POST "http://127.0.0.1:$1/api/users" \
            -d "{\"email\":\"$u@cluster.io\",\"password\":\"benchpass1\"}"
    done
}

# wrk_post PORT... : POSTs on each port at once; prints the summed req/s.
wrk_post() {
    i=0
    for port in "$@"; do
        wrk -t1 -c16 -d"$DUR" -s "$TOP/bench/post.lua" \
            "http://127.0.0.1:$port/api/messages" > "$OUT/cluster-wrk-$i.txt" &
        i=$((i + 1))
    done
    wait
    cat "$OUT"/cluster-wrk-*.txt | awk '/^Requests\/sec/ {s += $2}
        /Non-2xx/ {bad += $5} END {printf "%.0f req/s (non-2xx %d)", s, bad}'
    rm -f "$OUT"/cluster-wrk-*.txt
}

# two_nodes LABEL EXTRA_CONFIG: both nodes on an emptied database (the
# streams start at seq 0), subscribers and writers spread over both.
two_nodes() {
    sh "$TOP/scripts/pg.sh" reset "$PGDIR" "$PGPORT"
    start_apache "$APORT" "$OUT/node-a" "$NODE
$PG
$2" >/dev/null
    start_apache "$BPORT" "$OUT/node-b" "$NODE
$PG
$2" >/dev/null
    seed_users "$APORT"
    echo "$1 stream $(stream -P "$APORT" -Q "$BPORT")"
    echo "$1 post $(wrk_post "$APORT" "$BPORT")"
    stop_apache "$OUT/node-a"
    stop_apache "$OUT/node-b"
}

stream() {
    "$OUT/sseload" -n "$N" -m 20 -d 100 -J 100 -j -s "/api/messages/sse?since=0" \
        -p /api/messages "$@"
}

{
    start_apache "$APORT" "$OUT/node-a" "$NODE" >/dev/null
    seed_users "$APORT"
    echo "sqlite-1node stream $(stream -P "$APORT")"
    echo "sqlite-1node post $(wrk_post "$APORT")"
    stop_apache "$OUT/node-a"

    start_apache "$APORT" "$OUT/node-a" "$NODE
$PG" >/dev/null
    seed_users "$APORT"
    echo "pgsql-1node stream $(stream -P "$APORT")"
    echo "pgsql-1node post $(wrk_post "$APORT")"
    stop_apache "$OUT/node-a"
    two_nodes pgsql-2nodes ""
    two_nodes pgsql-2nodes-nolisten "PayloadChatStreamListen Off"
} | tee "$OUT/cluster.txt"
