#!/bin/sh
# POST throughput of two builds in one run: the tree as it is and an
# older commit (OLD, default HEAD~1), alternated ROUNDS times on one
# database (DB=pgsql or sqlite3), emptied before each go.  Prints req/s per
# go and the median of each build.  EDIT=1: PATCHes of one message instead;
# FIND=N: finds (limit 10, depth 1) over N messages put in beforehand;
# STREAM=N: the children's memory per subscriber (KiB, RSS growth over N)
# of N streams that receive SSE_M (5) messages, with their p99 latency;
# IDLE=N: the children's CPU seconds in 20 s while N streams sit idle.
#   OLD=abc123 ROUNDS=5 DB=pgsql sh bench/ab_post.sh
#   OLD=abc123 STREAM=5000 DB=sqlite3 sh bench/ab_post.sh
#   OLD=abc123 IDLE=10000 DB=sqlite3 sh bench/ab_post.sh
set -eu
. "$(dirname "$0")/common.sh"
NEW_TOP=$TOP
OLD=${OLD:-HEAD~1}
ROUNDS=${ROUNDS:-3}
DB=${DB:-pgsql}
DUR=${DUR:-8s}
PORT=${PORT:-18094}
PGPORT=${PGPORT:-25491}
OUT="$NEW_TOP/bench/out"
sh "$NEW_TOP/scripts/deps.sh" wrk postgresql libaprutil1-dbd-pgsql
make -C "$NEW_TOP" -s build >/dev/null
OLD_TOP=$(mktemp -d /tmp/pchat-ab.XXXXXX)
git -C "$NEW_TOP" worktree add -q --detach "$OLD_TOP" "$OLD"
make -C "$OLD_TOP" -s build >/dev/null 2>&1
PGDIR=$(mktemp -d /tmp/pchat-ab-pg.XXXXXX)
chmod 755 "$PGDIR" "$OLD_TOP"
mkdir -p "$OUT"
UNIT="req/s"
[ -n "${STREAM:-}" ] && UNIT="KiB/subscriber"
[ -n "${IDLE:-}" ] && UNIT="CPU-s/20s"
if [ -n "${STREAM:-}${IDLE:-}" ]; then
    build_sseload "$OUT/sseload" "$NEW_TOP/bench/sseload.c"
fi

cleanup() {
    stop_apache "$OUT/ab" >/dev/null 2>&1 || true
    sh "$NEW_TOP/scripts/pg.sh" stop "$PGDIR" 2>/dev/null || true
    rm -rf "$PGDIR"
    git -C "$NEW_TOP" worktree remove --force "$OLD_TOP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
DBLINE=""
if [ "$DB" = pgsql ]; then
    sh "$NEW_TOP/scripts/pg.sh" start "$PGDIR" "$PGPORT"
    DBLINE="PayloadChatDatabase pgsql \"$(sh "$NEW_TOP/scripts/pg.sh" params "$PGDIR" "$PGPORT")\""
fi

# seed_messages N: N messages from user 1 to user 2, straight into the
# database (the same rows for both builds)
seed_messages() {
    if [ "$DB" = pgsql ]; then
        sh "$NEW_TOP/scripts/pg.sh" psql "$PGDIR" "$PGPORT" -qAt -c \
            "INSERT INTO messages (sender, receiver, content, ts, created_at,
             updated_at, seq) SELECT 1, 2, 'seed ' || n, n, n, n, n
             FROM generate_series(1, $1) n" >/dev/null
    else
        sqlite3 -cmd ".timeout 10000" "$OUT/ab/db/payloadchat.sqlite" \
            "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c
             WHERE n < $1) INSERT INTO messages (sender, receiver, content,
             ts, created_at, updated_at, seq) SELECT 1, 2, 'seed ' || n, n,
             n, n, n FROM c"
    fi
}

# streams: "KiB/subscriber note" for STREAM subscribers on the node
streams() {
    base=$(apache_rss_threads "$OUT/ab" | cut -d' ' -f1)
    r=$("$OUT/sseload" -n "$STREAM" -m "${SSE_M:-5}" -d 100 -P "$PORT" -j \
        -s "/api/messages/sse?since=0" -p /api/messages)
    after=$(apache_rss_threads "$OUT/ab" | cut -d' ' -f1)
    echo "$r" | awk -v b="$base" -v a="$after" -v n="$STREAM" '
        { for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
        END { printf "%.1f p99_ms=%s connected=%s lost=%s\n", (a - b) / n,
                     v["p99_ms"], v["connected"], v["lost"] }'
}

# idle_streams: "CPU-seconds note" of the children over 20 s while IDLE
# subscribers (connected 8 s before) receive nothing but keep-alives
idle_streams() {
    "$OUT/sseload" -n "$IDLE" -P "$PORT" -s "/api/messages/sse?since=0" \
        -i 28 > "$OUT/ab-idle.txt" &
    sleep 8
    a=$(apache_cpu_ticks "$OUT/ab")
    sleep 20
    b=$(apache_cpu_ticks "$OUT/ab")
    wait
    echo "$a $b $(getconf CLK_TCK)" | awk '{printf "%.2f", ($2 - $1) / $3}'
    awk '{ for (i = 1; i < NF; i++) if ($i == "connected") c = $(i + 1) }
         END { printf " connected=%s\n", c }' "$OUT/ab-idle.txt"
}

# one_go TREE: "value note" (req/s and non-2xx answers of wrk, or what
# streams prints) on a fresh node built from TREE
one_go() {
    [ "$DB" = pgsql ] && sh "$NEW_TOP/scripts/pg.sh" reset "$PGDIR" "$PGPORT" >/dev/null
    TOP=$1
    start_apache "$PORT" "$OUT/ab" "ThreadsPerChild 32
MaxRequestWorkers 64
ServerLimit 2
PayloadChatStreamMaxSubscribers 20000
PayloadChatStreamMaxPerClient 20000
$DBLINE" >/dev/null
    TOP=$NEW_TOP
    for u in a b; do
        curl -H "Content-Type: application/json" -sf -o /dev/null -X POST "http://127.0.0.1:$PORT/api/users" \
            -d "{\"email\":\"$u@ab.io\",\"password\":\"benchpass1\"}"
    done
    if [ -n "${STREAM:-}${IDLE:-}" ]; then
        if [ -n "${STREAM:-}" ]; then streams; else idle_streams; fi
        stop_apache "$OUT/ab"
        return
    fi
    script=post.lua path=/api/messages
    if [ -n "${FIND:-}" ]; then
        seed_messages "$FIND"
        script=get.lua path="/api/messages?limit=10&depth=1"
    fi
    if [ -n "${EDIT:-}" ]; then
        script=patch.lua path=/api/messages/1
        curl -H "Content-Type: application/json" -sf -o /dev/null -X POST "http://127.0.0.1:$PORT/api/messages" \
            -d '{"sender":1,"receiver":2,"content":"to edit"}'
    fi
    wrk -t1 -c16 -d"$DUR" -s "$NEW_TOP/bench/$script" \
        "http://127.0.0.1:$PORT$path" \
        | awk '/^Requests\/sec/ {s = $2} /Non-2xx/ {bad = $5}
               END {printf "%.0f non-2xx=%d\n", s, bad}'
    stop_apache "$OUT/ab"
}

median() {
    sort -n | awk '{v[NR] = $1} END {m = int((NR + 1) / 2); print v[m]}'
}

: > "$OUT/ab-old.txt"
: > "$OUT/ab-new.txt"
for r in $(seq 1 "$ROUNDS"); do
    for build in old new; do
        tree=$NEW_TOP
        [ "$build" = old ] && tree=$OLD_TOP
        set -- $(one_go "$tree")
        echo "round $r $build ($DB): $1 $UNIT ($2${3:+ $3}${4:+ $4})"
        echo "$1" >> "$OUT/ab-$build.txt"
    done
done
old=$(median < "$OUT/ab-old.txt")
new=$(median < "$OUT/ab-new.txt")
echo "median old ($OLD) $old $UNIT, new $new $UNIT, new/old $(echo "$new $old" | awk '{printf "%.2f", $1 / $2}')"
