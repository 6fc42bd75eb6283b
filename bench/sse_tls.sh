#!/bin/sh
# Stream benchmark over TLS, in one run: N subscribers over HTTPS/1.1 and
# over HTTP/2 (TLS, ALPN h2, SSE_K streams per connection), 20 messages
# 100 ms apart, against nginx + nchan over TLS (the baseline, `listen ...
# ssl http2`) and mod_payloadchat behind mod_ssl + mod_http2 on the event
# MPM.  Messages are published over plain HTTP on each server's second
# port, the same way for both.  Prints delivery latency, losses,
# duplicates, and the servers' threads and memory at their peak while the
# N streams are open.
#
# Our Apache: 2 children; an HTTPS/1.1 stream is parked by the event MPM,
# an h2 stream holds threads (see conf below); SSE_K streams per h2
# connection (default 4, PayloadChatStreamMaxPerH2Connection's default).  SSE_H2_NS: the Ns run
# over h2 (default: all of SSE_NS); ROUNDS: goes of everything, alternated.
# "lost" counts what every one of the N subscribers should have received:
# a subscriber that did not connect loses all of its messages.
set -eu
. "$(dirname "$0")/common.sh"
NS=${SSE_NS:-"1000 5000"}
H2_NS=${SSE_H2_NS:-$NS}
M=${SSE_M:-20}
D=${SSE_D:-100}
K=${SSE_K:-4}
ROUNDS=${ROUNDS:-1}
APORT=${APORT:-9160}        # Apache: plain $APORT, TLS $APORT + 1
NPORT=${NPORT:-9162}        # nginx: plain $NPORT, TLS $NPORT + 1
OUT="$TOP/bench/out"
sh "$TOP/scripts/deps.sh" nginx libnginx-mod-nchan
make -C "$TOP" -s build >/dev/null
mkdir -p "$OUT/nginx_tmp"
build_sseload "$OUT/sseload"
make_cert "$OUT/ssl"

cleanup() {
    stop_nginx
    stop_apache "$OUT/sse_tls" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# nginx + nchan over TLS on $NPORT + 1 (h2 and http/1.1), plain on $NPORT;
# started afresh for each run, as our Apache is.
sed -e "s|@OUT@|$OUT|g" -e "s|@PORT@|$NPORT|g" \
    -e "s|nginx.pid|nginx_tls.pid|" -e "s|nginx_error.log|nginx_tls_error.log|" \
    -e "s|@TLS@|listen 127.0.0.1:$((NPORT + 1)) ssl http2; ssl_certificate $OUT/ssl/cert.pem; ssl_certificate_key $OUT/ssl/key.pem;|" \
    "$TOP/bench/nchan.conf.in" > "$OUT/nchan_tls.conf"
start_nginx() {
    nginx -c "$OUT/nchan_tls.conf"
    for _ in $(seq 1 50); do
        curl -s -o /dev/null "http://127.0.0.1:$NPORT/" && return 0
        sleep 0.1
    done
}
stop_nginx() {
    [ -f "$OUT/nginx_tls.pid" ] || return 0
    kill "$(cat "$OUT/nginx_tls.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do
        [ -f "$OUT/nginx_tls.pid" ] || break
        sleep 0.1
    done
}

# conf TRANSPORT N: HTTPS/1.1 as bench/sse.sh (2 children x 32 threads).
# h2: an h2 connection whose streams are open holds an event MPM worker
# (mod_http2 hands it back only when no stream is open) and each stream an
# h2 worker, so each child gets MPM threads for its half of the N / K
# connections plus 64 (a child out of threads stops accepting; the other
# takes the connection), and room for N h2 workers, started on demand (the
# children do not share the streams evenly; a stream's handler needs a
# free worker to run at all, even to be refused, so the module's limit
# must stay below H2MaxWorkers).  PayloadChatStreamMaxH2Connections (by
# default half of ThreadsPerChild) is raised to all but 16 of a child's
# threads: this config sizes the threads for the connections.
conf() {
    tpc=32 h2w=4 h2max=2
    if [ "$1" = h2 ]; then
        tpc=$(( $2 / K / 2 + 64 ))
        h2w=$(( $2 + 64 ))
        h2max=$2
    fi
    cat <<EOC
ServerLimit 2
StartServers 2
ThreadLimit $tpc
ThreadsPerChild $tpc
MaxRequestWorkers $(( tpc * 2 ))
H2MinWorkers 1
H2MaxWorkers $h2w
PayloadChatStreamMaxH2 $h2max
PayloadChatStreamMaxPerH2Connection $K
PayloadChatStreamMaxH2Connections $(( tpc - 16 ))
PayloadChatStreamMaxSubscribers 20000
PayloadChatStreamMaxPerClient 20000
$(tls_conf "$((APORT + 1))" "$OUT/ssl")
EOC
}

# run SYSTEM TRANSPORT N PUBPORT TLSPORT PARENT_PID SUBPATH PUBPATH [-j]:
# sseload in the background; the parent's children sampled every 0.5 s
# (their peak RSS and threads while the streams are open).
run() {
    sys=$1 tr=$2 n=$3 pub=$4 tls=$5 ppid=$6 sub=$7 pubpath=$8
    shift 8
    h2=""
    [ "$tr" = h2 ] && h2="-2 -k $K"
    set -- $(children_rss_threads "$ppid") "$@"
    base_rss=$1 base_thr=$2
    shift 2
    rm -f "$OUT/sse_tls.r"
    # shellcheck disable=SC2086
    "$OUT/sseload" -n "$n" -m "$M" -d "$D" -P "$pub" -t "$tls" $h2 \
        -s "$sub" -p "$pubpath" "$@" > "$OUT/sse_tls.r" &
    lp=$!
    peak_rss=0 peak_thr=0
    for _ in $(seq 1 400); do        # sseload stops itself within ~80 s
        [ -s "$OUT/sse_tls.r" ] && break
        set -- $(children_rss_threads "$ppid")
        [ "$1" -gt "$peak_rss" ] && peak_rss=$1
        [ "$2" -gt "$peak_thr" ] && peak_thr=$2
        sleep 0.5
    done
    wait "$lp"
    echo "$sys $tr $n $(cat "$OUT/sse_tls.r") rss_kb $peak_rss base_kb $base_rss" \
         "threads $peak_thr base_threads $base_thr"
}

ours() {   # TRANSPORT N
    start_apache "$APORT" "$OUT/sse_tls" "$(conf "$1" "$2")" >/dev/null
    b="http://127.0.0.1:$APORT/api"
    curl -H "Content-Type: application/json" -s -o /dev/null -X POST "$b/users" -d '{"email":"a@b.io","password":"benchpass1"}'
    curl -H "Content-Type: application/json" -s -o /dev/null -X POST "$b/users" -d '{"email":"b@b.io","password":"benchpass1"}'
    run payloadchat "$1" "$2" "$APORT" "$((APORT + 1))" \
        "$(cat "$OUT/sse_tls/httpd.pid")" "/api/messages/sse?since=0" \
        /api/messages -j
    stop_apache "$OUT/sse_tls"
}

nchan() {  # TRANSPORT N
    start_nginx
    run nchan "$1" "$2" "$NPORT" "$((NPORT + 1))" "$(cat "$OUT/nginx_tls.pid")" \
        /sub /pub
    stop_nginx
}

for round in $(seq 1 "$ROUNDS"); do
    for n in $NS; do
        for tr in h1 h2; do
            case " $H2_NS " in *" $n "*) ;; *) [ "$tr" = h2 ] && continue ;; esac
            nchan "$tr" "$n"
            ours "$tr" "$n"
        done
    done
done | tee "$OUT/sse_tls.txt"
echo "load: $(uptime)"
echo
# One row per N, system and transport: medians over the rounds (p99/nchan:
# the median of each round's ratio to nchan over the same transport).
printf "%-6s %-12s %-5s %-14s %-5s %-5s %-7s %-7s %-9s %-7s %-7s %s\n" N \
    system trans received lost dups p50_ms p99_ms p99/nchan threads rss_MB KB/sub
awk '
function field(line, name,   i, f) {
    split(line, f, " ")
    for (i = 1; i < length(f); i++) if (f[i] == name) return f[i + 1]
    return "-"
}
function median(list,   v, k, i, j, t) {
    k = split(list, v, " ")
    for (i = 1; i <= k; i++)
        for (j = i + 1; j <= k; j++)
            if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
    return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
}
function add(key, name, value) { vals[key, name] = vals[key, name] " " value }
{
    sys = $1; tr = $2; n = $3; key = n SUBSEP sys SUBSEP tr
    if (!(key in seen)) { seen[key] = 1; order[++rows] = key }
    p99 = field($0, "p99_ms")
    if (sys == "nchan") base[n, tr] = p99
    else if (base[n, tr] > 0 && p99 != "-") add(key, "ratio", p99 / base[n, tr])
    add(key, "p50", field($0, "p50_ms")); add(key, "p99", p99)
    add(key, "thr", field($0, "threads")); add(key, "rss", field($0, "rss_kb"))
    add(key, "per", (field($0, "rss_kb") - field($0, "base_kb")) / n)
    recv[key] = recv[key] + field($0, "received")
    want[key] += n * field($0, "messages")
    lost[key] += field($0, "lost"); dups[key] += field($0, "dups")
}
END {
    for (r = 1; r <= rows; r++) {
        key = order[r]; split(key, k, SUBSEP)
        printf "%-6s %-12s %-5s %-14s %-5s %-5s %-7s %-7s %-9s %-7s %-7.0f %.1f\n",
               k[1], k[2], k[3] == "h1" ? "https" : "h2",
               recv[key] "/" want[key], want[key] - recv[key], dups[key],
               median(vals[key, "p50"]), median(vals[key, "p99"]),
               vals[key, "ratio"] == "" ? "-" : sprintf("%.2f", median(vals[key, "ratio"])),
               median(vals[key, "thr"]), median(vals[key, "rss"]) / 1024,
               median(vals[key, "per"])
    }
}' "$OUT/sse_tls.txt"
