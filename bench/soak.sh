#!/bin/sh
# Soak: SOAK_S seconds (default 600) of mixed traffic on one node —
# 200 subscribers streaming, ~10 POSTs a second, a wrk loop of finds — and
# the children's RSS sampled every 30 s.  Prints RSS at start and end,
# request counts, non-2xx answers, how many messages each subscriber got
# (each should get every stored one) and error-log lines.  Bounded: every load stops by itself.
set -eu
. "$(dirname "$0")/common.sh"
SOAK_S=${SOAK_S:-600}
PORT=${PORT:-18094}
OUT="$TOP/bench/out"
sh "$TOP/scripts/deps.sh" wrk
make -C "$TOP" -s build >/dev/null
mkdir -p "$OUT"
build_sseload "$OUT/sseload"
trap 'stop_apache "$OUT/soak" 2>/dev/null || true' EXIT

start_apache "$PORT" "$OUT/soak" "StartServers 2
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 64
MaxSpareThreads 64
PayloadChatStreamMaxPerClient 20000" >/dev/null
B="http://127.0.0.1:$PORT/api"
for u in a b; do
    curl -H "Content-Type: application/json" -sf -o /dev/null -X POST "$B/users" \
        -d "{\"email\":\"$u@soak.io\",\"password\":\"benchpass1\"}"
done

# subscribers: connected for the whole run and 5 s more, reading and
# counting every message document
"$OUT/sseload" -n 200 -P "$PORT" -s /api/messages/sse -i "$((SOAK_S + 5))" \
    > "$OUT/soak-subs.txt" &
subs=$!
# finds as fast as two connections go
wrk -t1 -c2 -d"${SOAK_S}s" "$B/messages?limit=10&depth=1" \
    > "$OUT/soak-wrk.txt" 2>&1 &
finds=$!
sleep 2
echo "t_s rss_kb threads" > "$OUT/soak-rss.txt"
start=$(date +%s)
posts=0 bad=0 next_sample=0
while [ $(( $(date +%s) - start )) -lt "$SOAK_S" ]; do
    now=$(( $(date +%s) - start ))
    if [ "$now" -ge "$next_sample" ]; then
        echo "$now $(apache_rss_threads "$OUT/soak")" >> "$OUT/soak-rss.txt"
        next_sample=$((next_sample + 30))
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$B/messages" \
        -H 'Content-Type: application/json' \
        -d "{\"sender\":1,\"receiver\":2,\"content\":\"soak $posts\"}")
    posts=$((posts + 1))
    [ "$code" = 201 ] || bad=$((bad + 1))
    sleep 0.1
done
echo "$SOAK_S $(apache_rss_threads "$OUT/soak")" >> "$OUT/soak-rss.txt"
wait "$finds" || true
wait "$subs" || true
stored=$(curl -s "$B/messages/count" | sed 's/[^0-9]//g')
errors=$(grep -c "\[error\]\|\[crit\]\|\[emerg\]\|exit signal" \
    "$OUT/soak/error_log" || true)
{
    echo "soak ${SOAK_S}s: posts $posts non-201 $bad stored $stored"
    echo "finds: $(awk '/requests in/ {print $1}' "$OUT/soak-wrk.txt") requests," \
         "non-2xx $(awk '/Non-2xx/ {print $5}' "$OUT/soak-wrk.txt" | grep . || echo 0)"
    echo "subscribers: $(cat "$OUT/soak-subs.txt")"
    echo "error-log lines at error level or worse: $errors"
    echo "children RSS KiB / threads: start $(sed -n 2p "$OUT/soak-rss.txt" | cut -d' ' -f2-)," \
         "end $(tail -1 "$OUT/soak-rss.txt" | cut -d' ' -f2-)"
} | tee "$OUT/soak.txt"
cat "$OUT/soak-rss.txt"
