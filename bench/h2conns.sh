#!/bin/sh
# An h2 connection with a stream open holds an event-MPM worker: one child
# of H2CONNS_THREADS threads (8 by default), H2CONNS_N (12) TLS h2
# connections with one stream each, and after each a plain HTTPS/1.1 GET
# on a new connection (3 s at most).  H2CONNS_EXTRA: more config lines
# (e.g. "PayloadChatStreamMaxH2Connections 6").  PayloadChatStreamMaxH2 is
# H2CONNS_MAXH2 (1000: not the bound here).
set -eu
. "$(dirname "$0")/common.sh"
PORT=${PORT:-18290}
TLS_PORT=$((PORT + 1))
THREADS=${H2CONNS_THREADS:-8}
OUT="$TOP/bench/out"
make -C "$TOP" -s build >/dev/null
make_cert "$OUT/ssl"
CONF="ServerLimit 1
StartServers 1
ThreadsPerChild $THREADS
MaxRequestWorkers $THREADS
MinSpareThreads 1
MaxSpareThreads $THREADS
${H2CONNS_EXTRA:-}
PayloadChatStreamMaxPerClient 100000
PayloadChatStreamMaxH2 ${H2CONNS_MAXH2:-1000}
$(tls_conf "$TLS_PORT" "$OUT/ssl")"
trap 'exec 9>&- 2>/dev/null; stop_apache "$OUT/h2conns" 2>/dev/null || true' EXIT
start_apache "$PORT" "$OUT/h2conns" "$CONF" >/dev/null
fifo="$OUT/h2conns.fifo"
rm -f "$fifo"
mkfifo "$fifo"
/usr/bin/python3 "$TOP/bench/h2conns.py" "$TLS_PORT" "${H2CONNS_N:-12}" \
    < "$fifo" > "$OUT/h2conns.out" &
exec 9> "$fifo"
for _ in $(seq 1 600); do
    grep -q '^open' "$OUT/h2conns.out" && break
    sleep 0.1
done
grep -v '^open' "$OUT/h2conns.out"
echo "MaxRequestWorkers reached (AH00484): $(grep -c AH00484 "$OUT/h2conns/error_log" || true)"
exec 9>&-
wait
