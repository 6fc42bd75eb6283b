#!/bin/sh
# Runs Apache with the module under valgrind memcheck (every process: the
# parent and its child), drives every kind of request through it — users,
# login and tokens, finds with where/sort/depth, writes, deletes, a stream
# that receives a message, and bad input of each kind — stops it, and fails
# when valgrind reports a memory error anywhere or a definite leak whose
# stack passes through our code.  Usage: valgrind.sh [PORT]
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
PORT=${1:-18095}
DIR=$(mktemp -d /tmp/pchat-valgrind.XXXXXX)
chmod 755 "$DIR"
B="http://127.0.0.1:$PORT/api"

cat > "$DIR/httpd-vg.sh" <<EOF
#!/bin/sh
exec valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \\
    --trace-children=yes --num-callers=30 --log-file="$DIR/vg.%p.log" \\
    /usr/sbin/apache2 "\$@"
EOF
chmod 755 "$DIR/httpd-vg.sh"
HTTPD="$DIR/httpd-vg.sh"
. "$TOP/bench/common.sh"

stop() {
    pid=$(cat "$DIR/run/httpd.pid" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do
        pgrep -f "$DIR/run/httpd.conf" >/dev/null || return 0
        sleep 0.1
    done
    pkill -KILL -f "$DIR/run/httpd.conf" || true
}
trap 'stop; rm -rf "$DIR"' EXIT

# req METHOD PATH [BODY [EXTRA CURL ARGS...]]: prints the status code.
req() {
    m=$1 p=$2 body=${3:-}
    shift $(( $# < 3 ? $# : 3 ))
    if [ -n "$body" ]; then
        set -- --data-binary "$body" "$@"
    fi
    curl -sg -o /dev/null -w '%{http_code}\n' -X "$m" "$B$p" \
        -H 'Content-Type: application/json' "$@"
}

echo "valgrind: starting Apache under memcheck (slow)"
START_TRIES=600 start_apache "$PORT" "$DIR/run" "StartServers 1
ServerLimit 1
ThreadsPerChild 8
MaxRequestWorkers 8
PayloadChatMaxBodySize 4096" >/dev/null || {
    cat "$DIR/run/error_log" >&2
    exit 1
}
for _ in $(seq 1 300); do
    [ "$(req GET /users)" = 200 ] && break
    sleep 0.2
done

{
    req POST /users '{"email":"a@vg.io","password":"password123"}'
    req POST /users '{"email":"b@vg.io","password":"password123"}'
    token=$(curl -s -X POST "$B/users/login" -H 'Content-Type: application/json' \
        -d '{"email":"a@vg.io","password":"password123"}' |
        sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
    auth="Authorization: JWT $token"
    req GET /users/me "" -H "$auth"
    req POST /users/refresh-token "" -H "$auth"
    req POST /users/login '{"email":"a@vg.io","password":"wrong-password"}'
    # a stream that is open while messages are written
    curl -sN --max-time 8 "$B/messages/sse?since=0" > "$DIR/stream.txt" &
    sleep 2
    for i in 1 2 3; do
        req POST /messages "{\"sender\":1,\"receiver\":2,\"content\":\"vg $i <b>\"}"
    done
    req PATCH /messages/1 '{"content":"edited"}'
    req GET '/messages?where[or][0][sender][equals]=1&where[or][1][content][like]=vg&sort=-createdAt&limit=2&page=2&depth=1'
    req GET '/messages/count?where[receiver][in]=1,2'
    req GET /messages/2?depth=2
    req DELETE /messages/3
    req DELETE '/messages?where[content][equals]=nothing'
    # bad input of each kind
    req POST /messages '{"sender":1,'
    req POST /messages '{"sender":"x","receiver":[],"content":5,"extra":1}'
    req POST /messages "{\"content\":\"$(head -c 8000 /dev/zero | tr '\0' x)\"}"
    req GET '/messages?where[content][regex]=x&limit=-1&sort=nope'
    req GET '/messages?where[a][b][c][d][e][f][g][h][i][j][k][l]=1'
    req GET /messages/abc
    req GET /messages/99999999999999999999
    req GET /users/me "" -H 'Authorization: JWT a.b.c'
    req GET /users/me "" -H 'Authorization: JWT eyJhbGciOiJub25lIn0.e30.'
    req POST /users/logout "" -H "$auth"
    wait
} > "$DIR/statuses.txt"
grep -c 'event: message' "$DIR/stream.txt" > /dev/null \
    || { echo "valgrind: the stream received no message"; exit 1; }
echo "valgrind: $(wc -l < "$DIR/statuses.txt") requests and a stream, statuses" \
     "$(sort "$DIR/statuses.txt" | uniq -c | awk '{printf "%s×%s ", $2, $1}')"
stop

# Each process's log: errors, and definite-leak records naming our code.
fail=0
for log in "$DIR"/vg.*.log; do
    grep -q 'Command: /usr/sbin/apache2' "$log" || continue
    if ! grep -q 'LEAK SUMMARY\|All heap blocks were freed' "$log"; then
        echo "valgrind: pid ${log##*/vg.} ended without a leak check"
        fail=1
    fi
    errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$log" | tail -1)
    definite=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$log" | tail -1)
    ours=$(awk '/are definitely lost in loss record/ {rec = 1; hit = 0; next}
                rec && /^==[0-9]+== *$/ {n += hit; rec = 0; next}
                rec && /mod_payloadchat|pchat_/ {hit = 1}
                END {print n + 0}' "$log")
    echo "valgrind: pid ${log##*/vg.} errors ${errors:-?}, definitely lost ${definite:-0} bytes," \
         "leak records through our code: $ours"
    if grep -q 'Invalid read\|Invalid write\|uninitialised\|Invalid free' "$log"; then
        grep -B2 -A25 'Invalid read\|Invalid write\|uninitialised\|Invalid free' "$log" | head -60
        fail=1
    fi
    [ "$ours" -eq 0 ] || { grep -A30 'definitely lost in loss record' "$log" | head -80; fail=1; }
done
[ "$fail" -eq 0 ] && echo "valgrind: PASS" || echo "valgrind: FAIL"
exit "$fail"
