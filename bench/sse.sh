#!/bin/sh
# Stream benchmark, in one run: N subscribers, 20 messages 100 ms apart,
# against nginx + nchan (the baseline) and mod_payloadchat (suspended
# streams on the event MPM, at most 64 worker threads), plus the blocking
# fallback at N=1000.  Prints delivery latency, losses, duplicates, server
# memory and threads, and the database probes of an idle stream.
set -eu
. "$(dirname "$0")/common.sh"
NS=${SSE_NS:-"1000 5000 10000"}
M=${SSE_M:-20}
D=${SSE_D:-100}
APORT=${APORT:-18090}
NPORT=${NPORT:-18091}
OUT="$TOP/bench/out"
sh "$TOP/scripts/deps.sh" nginx libnginx-mod-nchan
make -C "$TOP" -s build >/dev/null
mkdir -p "$OUT/nginx_tmp"
build_sseload "$OUT/sseload"

cleanup() {
    [ -f "$OUT/nginx.pid" ] && kill "$(cat "$OUT/nginx.pid")" 2>/dev/null || true
    stop_apache "$OUT/sse" 2>/dev/null || true
}
trap cleanup EXIT

sed -e "s|@OUT@|$OUT|g" -e "s|@PORT@|$NPORT|g" -e "s|@TLS@||" \
    "$TOP/bench/nchan.conf.in" \
    > "$OUT/nchan.conf"
nginx -c "$OUT/nchan.conf"
EVENT_CONF="ThreadsPerChild 32
MaxRequestWorkers 64
ServerLimit 2
PayloadChatStreamMaxSubscribers 20000
PayloadChatStreamMaxPerClient 20000"
BLOCKING_CONF="ThreadsPerChild 600
ThreadLimit 600
MaxRequestWorkers 1200
ServerLimit 2
PayloadChatStreamMode blocking
PayloadChatStreamMaxSubscribers 20000
PayloadChatStreamMaxPerClient 20000"

# ours NAME CONFIG N
ours() {
    start_apache "$APORT" "$OUT/sse" "$2" >/dev/null
    b="http://127.0.0.1:$APORT/api"
    curl -H "Content-Type: application/json" -s -o /dev/null -X POST "$b/users" -d '{"email":"a@b.io","password":"benchpass1"}'
    curl -H "Content-Type: application/json" -s -o /dev/null -X POST "$b/users" -d '{"email":"b@b.io","password":"benchpass1"}'
    base=$(apache_rss_threads "$OUT/sse" | cut -d' ' -f1)
    r=$("$OUT/sseload" -n "$3" -m "$M" -d "$D" -P "$APORT" -j \
        -s "/api/messages/sse?since=0" -p /api/messages)
    set -- "$1" "$3" "$r" "$(apache_rss_threads "$OUT/sse")" "$base"
    echo "$1 $2 $3 rss_kb $4 base_kb $5"
    stop_apache "$OUT/sse"
}

nchan() {
    r=$("$OUT/sseload" -n "$1" -m "$M" -d "$D" -P "$NPORT" -s /sub -p /pub)
    rss=0
    for p in $(pgrep -f "nginx: worker"); do
        rss=$((rss + $(awk '/VmRSS/ {print $2}' /proc/$p/status)))
    done
    echo "nchan $1 $r rss_kb $rss"
}

for n in $NS; do
    nchan "$n"
    ours payloadchat "$EVENT_CONF" "$n"
    if [ "$n" = 1000 ]; then
        ours blocking "$BLOCKING_CONF" "$n"
    fi
done | tee "$OUT/sse.txt"

# What an idle stream costs the database: with N quiet subscribers for
# 10 s, count the hub's probes (logged at trace1 as PCH00502).
idle() {
    start_apache "$APORT" "$OUT/sse" "$EVENT_CONF
LogLevel warn payloadchat:trace1" >/dev/null
    "$OUT/sseload" -n "$1" -P "$APORT" -s "/api/messages/sse?since=0" -i 10 \
        >/dev/null
    probes=$(grep -c PCH00502 "$OUT/sse/error_log" || true)
    echo "idle $1 subscribers: $probes database probes in ~11 s;" \
         "children RSS KiB and threads: $(apache_rss_threads "$OUT/sse")"
    stop_apache "$OUT/sse"
}
for n in $NS; do idle "$n"; done | tee "$OUT/sse-idle.txt"
echo
printf "%-7s %-12s %-12s %-5s %-5s %-7s %-7s %-7s %-9s %-7s %s\n" N system \
    received lost dups p50_ms p99_ms max_ms p99/nchan rss_MB KB/sub
awk '
function field(line, name,   i, f) {
    split(line, f, " ")
    for (i = 1; i < length(f); i++) if (f[i] == name) return f[i + 1]
    return "-"
}
{
    sys = $1; n = $2
    p99 = field($0, "p99_ms")
    if (sys == "nchan") base[n] = p99
    ratio = (sys != "nchan" && base[n] > 0) ? sprintf("%.2f", p99 / base[n]) : "-"
    base_kb = field($0, "base_kb")
    per = base_kb == "-" ? "-" : sprintf("%.1f", (field($0, "rss_kb") - base_kb) / n)
    printf "%-7s %-12s %-12s %-5s %-5s %-7s %-7s %-7s %-9s %-7.0f %s\n", n, sys,
           field($0, "received") "/" field($0, "expected"), field($0, "lost"),
           field($0, "dups"), field($0, "p50_ms"), p99, field($0, "max_ms"),
           ratio, field($0, "rss_kb") / 1024, per
}' "$OUT/sse.txt"
cat "$OUT/sse-idle.txt"
