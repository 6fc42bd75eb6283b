#!/bin/sh
# REST benchmark: wrk on loopback, in one run, against the same Apache
# serving a small static file (the baseline), GET /api/messages?limit=10&
# depth=1 and POST /api/messages, the last with PayloadChatSQLiteSync FULL
# (the default) and NORMAL.  Prints requests/s, latency and ratios.
set -eu
. "$(dirname "$0")/common.sh"
PORT=${PORT:-18080}
DUR=${DUR:-10s}
CONNS=${CONNS:-32}
OUT="$TOP/bench/out"
sh "$TOP/scripts/deps.sh" wrk
make -C "$TOP" -s build >/dev/null

# run NAME URL [wrk args] -> "rps p50 p99 non2xx"
run_wrk() {
    name=$1; shift
    wrk -t2 -c"$CONNS" -d"$DUR" --latency "$@" > "$OUT/$name.txt" 2>&1
    rps=$(awk '/^Requests\/sec/ {print $2}' "$OUT/$name.txt")
    p50=$(awk '$1 == "50%" {print $2}' "$OUT/$name.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$OUT/$name.txt")
    bad=$(awk '/Non-2xx/ {print $5}' "$OUT/$name.txt")
    printf '%-26s %10s req/s   p50 %-9s p99 %-9s non-2xx %s\n' "$name" "$rps" \
        "$p50" "$p99" "${bad:-0}"
    echo "$rps" > "$OUT/$name.rps"
}

seed_users() {
    b="http://127.0.0.1:$PORT/api"
    curl -H "Content-Type: application/json" -sf -o /dev/null -X POST "$b/users" -d '{"email":"a@bench.io","password":"benchpass1"}'
    curl -H "Content-Type: application/json" -sf -o /dev/null -X POST "$b/users" -d '{"email":"b@bench.io","password":"benchpass2"}'
}

seed_messages() {
    b="http://127.0.0.1:$PORT/api"
    i=0
    while [ $i -lt 1000 ]; do
        echo "{\"sender\":1,\"receiver\":2,\"content\":\"seed $i\"}"
        i=$((i + 1))
    done | while read -r body; do
        curl -H "Content-Type: application/json" -sf -o /dev/null -X POST "$b/messages" -d "$body"
    done
}

mkdir -p "$OUT"
head -c 1024 /dev/urandom | base64 > "$TOP/htdocs/bench-static.txt"
trap 'rm -f "$TOP/htdocs/bench-static.txt"; stop_apache "$OUT/run" 2>/dev/null || true' EXIT

for sync in FULL NORMAL; do
    start_apache "$PORT" "$OUT/run" "PayloadChatSQLiteSync $sync"
    seed_users
    if [ "$sync" = FULL ]; then
        seed_messages
        wrk -t2 -c8 -d2s "http://127.0.0.1:$PORT/bench-static.txt" >/dev/null
        run_wrk static "http://127.0.0.1:$PORT/bench-static.txt"
        run_wrk find "http://127.0.0.1:$PORT/api/messages?limit=10&depth=1"
    fi
    run_wrk "post-$sync" -s "$TOP/bench/post.lua" "http://127.0.0.1:$PORT/api/messages"
    stop_apache "$OUT/run"
done

awk -v s="$(cat "$OUT/static.rps")" -v f="$(cat "$OUT/find.rps")" \
    -v pf="$(cat "$OUT/post-FULL.rps")" -v pn="$(cat "$OUT/post-NORMAL.rps")" 'BEGIN {
    printf "find / static: %.1f%% (target >= 40%%)\n", 100 * f / s
    printf "POST/s: %.0f with FULL sync, %.0f with NORMAL (target >= 2000)\n", pf, pn
}'
