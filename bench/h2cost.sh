#!/bin/sh
# What a stream costs per transport: N streams held over HTTPS/1.1 (the
# event MPM suspends them) and over HTTP/2 (each on an h2 worker); prints
# the children's threads and RSS with N open, against the same server
# after a first round of N.  One
# Apache (2 children x 25 threads, mod_http2's default workers), a
# self-signed certificate, 127.0.0.1.  H2COST_NS="16 32" by default.
set -eu
. "$(dirname "$0")/common.sh"
NS=${H2COST_NS:-"16 32"}
PORT=${PORT:-18190}
TLS_PORT=$((PORT + 1))
OUT="$TOP/bench/out"
PY=/usr/bin/python3
make -C "$TOP" -s build >/dev/null
make_cert "$OUT/ssl"
CONF="ServerLimit 2
StartServers 2
ThreadsPerChild 25
MaxRequestWorkers 50
MaxSpareThreads 50
${H2COST_EXTRA:-}
PayloadChatStreamMaxPerClient 100000
PayloadChatStreamMaxPerH2Connection 100
$(tls_conf "$TLS_PORT" "$OUT/ssl")"
trap 'stop_apache "$OUT/h2cost" 2>/dev/null || true' EXIT

measure() {   # KIND N PER_CONNECTION
    fifo="$OUT/h2cost.fifo"
    rm -f "$fifo"
    mkfifo "$fifo"
    $PY "$TOP/bench/h2streams.py" "$1" "$TLS_PORT" "$2" "$3" < "$fifo" \
        > "$OUT/h2cost.out" &
    exec 9> "$fifo"
    for _ in $(seq 1 300); do
        grep -q open "$OUT/h2cost.out" 2>/dev/null && break
        sleep 0.1
    done
    sleep 1
    set -- "$1" "$2" "$(cat "$OUT/h2cost.out")" $(apache_rss_threads "$OUT/h2cost")
    printf '%-4s N=%-4s %-8s threads %-4s RSS %6s KiB  (%+d threads, %+d KiB per stream)\n' \
        "$1" "$2" "$3" "$5" "$4" $(( $5 - BASE_THR )) \
        $(( ($4 - BASE_RSS) / $2 ))
    exec 9>&-
    wait
    sleep 2
}

# A fresh server per transport, warmed up by a first round of N streams
# (TLS and the database touch their memory once); then the threads and
# memory each further stream adds.
for kind in h1 h2; do
    stop_apache "$OUT/h2cost" 2>/dev/null || true
    start_apache "$PORT" "$OUT/h2cost" "$CONF" >/dev/null
    curl -sk -o /dev/null "https://127.0.0.1:$TLS_PORT/api/messages/sse/stats"
    per=1
    [ "$kind" = h2 ] && per=${H2COST_PER:-4}
    first=${NS%% *}
    BASE_RSS=0 BASE_THR=0
    measure "$kind" "$first" "$per" >/dev/null
    set -- $(apache_rss_threads "$OUT/h2cost")
    BASE_RSS=$1 BASE_THR=$2
    echo "$kind: after a warm-up round: threads $BASE_THR RSS $BASE_RSS KiB"
    for n in $NS; do
        measure "$kind" "$n" "$per"
    done
done
