#!/bin/sh
# Hostile query strings against the tree's build and an older commit (OLD,
# default: none, the tree alone), each on a fresh sqlite node: for each
# request the status, the wall time and the children's memory.
#   like:    GET /api/messages with a `like` of WORDS (3000) words "x"
#   in x7:   a stream whose where has 7 `in` lists of 500 ids, kept open:
#            the memory it holds (in x2: 2 lists)
#   sort:    a sort naming id 2,600 times
#   or[]:    DELETE /api/messages?where[or][][content][equals]=nomatch,
#            and the messages left of 5
#   OLD=faaca56 sh bench/hostile_query.sh
set -eu
. "$(dirname "$0")/common.sh"
NEW_TOP=$TOP
PORT=${PORT:-18095}
WORDS=${WORDS:-3000}
OUT="$NEW_TOP/bench/out"
B="http://127.0.0.1:$PORT/api"
mkdir -p "$OUT"
make -C "$NEW_TOP" -s build >/dev/null
OLD_TOP=""
if [ -n "${OLD:-}" ]; then
    OLD_TOP=$(mktemp -d /tmp/pchat-hostile.XXXXXX)
    git -C "$NEW_TOP" worktree add -q --detach "$OLD_TOP" "$OLD"
    make -C "$OLD_TOP" -s build >/dev/null 2>&1
    chmod 755 "$OLD_TOP"
fi

cleanup() {
    stop_apache "$OUT/hostile" >/dev/null 2>&1 || true
    [ -z "$OLD_TOP" ] || git -C "$NEW_TOP" worktree remove --force "$OLD_TOP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Sum over the children of a /proc/PID/status field (KiB).
children_kib() {
    ppid=$(cat "$OUT/hostile/httpd.pid")
    n=0
    for p in $(pgrep -P "$ppid"); do
        n=$((n + $(awk -v f="$1:" '$1 == f {print $2}' /proc/$p/status)))
    done
    echo "$n"
}

# Forgets the children's peak, so VmHWM is the peak from now on.
reset_peaks() {
    ppid=$(cat "$OUT/hostile/httpd.pid")
    for p in $(pgrep -P "$ppid"); do
        echo 5 > /proc/$p/clear_refs 2>/dev/null || true
    done
}

# measure NAME URL [curl options]: status, seconds, peak RSS growth (MiB)
measure() {
    name=$1 url=$2
    shift 2
    reset_peaks
    before=$(children_kib VmRSS)
    r=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 120 \
        "$@" "$url" || echo "timeout 120")
    peak=$(children_kib VmHWM)
    echo "$r $before $peak" | awk -v n="$name" '{printf "%-6s %s  %6.2f s  peak +%.0f MiB\n", n, $1, $2, ($4 - $3) / 1024}'
}

# The like value: WORDS words "x x x ...".
like_words() {
    seq 1 "$WORDS" | awk '{printf "%sx", (NR > 1 ? "+" : "")}'
}

# N and-ed lists of 500 ids each.
in_lists() {
    for l in $(seq 0 $(($1 - 1))); do
        printf '&where[and][%d][id][in]=' "$l"
        seq 1 500 | awk '{printf "%s1", (NR > 1 ? "," : "")}'
    done
}

# fresh TREE: a node built from TREE, with two users and 5 messages
fresh() {
    TOP=$1
    for _ in $(seq 1 100); do   # the last node may still be stopping
        curl -s -o /dev/null "http://127.0.0.1:$PORT/" || break
        sleep 0.1
    done
    start_apache "$PORT" "$OUT/hostile" "ServerLimit 1
StartServers 1
ThreadsPerChild 25
MaxRequestWorkers 25
LimitRequestLine 16384" >/dev/null
    TOP=$NEW_TOP
    for u in a b; do
        curl -sf -o /dev/null -X POST "$B/users" \
            -d "{\"email\":\"$u@hostile.io\",\"password\":\"benchpass1\"}"
    done
    for i in 1 2 3 4 5; do
        curl -sf -o /dev/null -X POST "$B/messages" \
            -d "{\"sender\":1,\"receiver\":2,\"content\":\"m$i\"}"
    done
}

# Each on a node of its own: a child keeps the memory a request took.
one_tree() {
    fresh "$1"
    measure like "$B/messages?where[content][like]=$(like_words)" -g
    stop_apache "$OUT/hostile"
    fresh "$1"
    measure sort "$B/messages?sort=$(seq 1 2600 | awk '{printf "%sid", (NR > 1 ? "," : "")}')" -g
    stop_apache "$OUT/hostile"
    for lists in 7 2; do
        fresh "$1"
        before=$(children_kib VmRSS)
        curl -s -N -g --max-time 30 "$B/messages/sse?since=0$(in_lists $lists)" \
            > "$OUT/hostile-sse.txt" &
        sleep 8
        held=$(children_kib VmRSS)
        echo "$(head -1 "$OUT/hostile-sse.txt")" "$before" "$held" \
            | awk -v l=$lists '{printf "in x%d  stream holds +%.0f MiB (first line: %s)\n", l, ($NF - $(NF - 1)) / 1024, $0}'
        kill $! 2>/dev/null || true
        wait 2>/dev/null || true
        [ $lists = 2 ] || stop_apache "$OUT/hostile"
    done
    measure "or[]" "$B/messages?where[or][][content][equals]=nomatch" \
        -g -X DELETE
    echo "       messages left: $(curl -s "$B/messages/count" | tr -d '\n')"
    stop_apache "$OUT/hostile"
}

if [ -n "$OLD_TOP" ]; then
    echo "== old ($OLD)"
    one_tree "$OLD_TOP"
fi
echo "== new ($(git -C "$NEW_TOP" rev-parse --short HEAD)$(git -C "$NEW_TOP" diff --quiet || echo +))"
one_tree "$NEW_TOP"
