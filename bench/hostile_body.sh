#!/bin/sh
# Finding 1 of the hostile-input audit: one anonymous POST whose body has
# KEYS unknown keys ({"0":1,"1":1,...}) to /api/messages.  Prints the
# answer's status, the wall time and the largest peak growth of a child's
# resident memory (VmHWM, reset through /proc/PID/clear_refs; needs root).
#   sh bench/hostile_body.sh                  KEYS="20000 50000" by default
#   MODULE=/elsewhere/.libs/mod_payloadchat.so sh bench/hostile_body.sh
. "$(dirname "$0")/common.sh"
PORT=${PORT:-8806}
RUNDIR=${RUNDIR:-/tmp/pchat-bench-body}
start_apache "$PORT" "$RUNDIR" "PayloadChatMaxBodySize 4194304" || exit 1
trap 'stop_apache "$RUNDIR"' EXIT
for n in ${KEYS:-20000 50000}; do
    body=$RUNDIR/body.json
    awk -v n="$n" 'BEGIN { printf "{"; for (i = 0; i < n; i++)
        printf "%s\"k%d\":1", i ? "," : "", i; printf "}" }' > "$body"
    ppid=$(cat "$RUNDIR/httpd.pid")
    base=0
    for p in $(pgrep -P "$ppid"); do
        echo 5 > "/proc/$p/clear_refs"
        r=$(awk '/VmRSS/ {print $2}' "/proc/$p/status")
        [ "$r" -gt "$base" ] && base=$r
    done
    out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 60 \
          -H 'Content-Type: application/json' --data-binary "@$body" \
          "http://127.0.0.1:$PORT/api/messages")
    peak=0
    for p in $(pgrep -P "$ppid"); do
        h=$(awk '/VmHWM/ {print $2}' "/proc/$p/status")
        [ "$h" -gt "$peak" ] && peak=$h
    done
    echo "keys=$n bytes=$(wc -c < "$body") status/time=$out peak_child_rss_kB=$peak (largest before: $base)"
done
