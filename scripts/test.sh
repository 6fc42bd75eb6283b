#!/bin/sh
# Runs the whole Apache::Test suite: every test under the event MPM, then
# the stream tests again under prefork (the blocking fallback).  Exits
# non-zero on any failure, on a crash in the error log, and when no test
# ran.  Called by `make test` after the build.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
HTTPD=${HTTPD:-/usr/sbin/apache2}
LOG=t/logs/error_log
CONF="$TOP/t/conf/httpd.conf"

# Only servers of this tree: a stale pid file may name anybody's process.
stop_leftovers() {
    pids=$(pgrep -f -- "-f $CONF" 2>/dev/null || true)
    if [ -n "$pids" ]; then
        echo "test: stopping a leftover test server ($pids)"
        kill $pids 2>/dev/null || true
        sleep 1
        kill -9 $pids 2>/dev/null || true
    fi
    rm -f t/logs/httpd.pid
}

fresh_database() {
    rm -rf t/run
    mkdir -p t/run/db
    if [ "$(id -u)" -eq 0 ]; then
        # children run as nobody: the sqlite directory (WAL files) is theirs
        chown nobody:nogroup t/run/db
    fi
}

# run_suite MPM TEST_FILES... : one Apache::Test run; prints the harness
# summary; returns its status.
run_suite() {
    mpm=$1
    shift
    stop_leftovers
    fresh_database
    sed "s/@MPM@/$mpm/g" t/conf/base.tmpl > t/conf/base.conf
    perl t/TEST -clean >/dev/null 2>&1
    mkdir -p t/logs
    : >> "$LOG"
    start=$(wc -c < "$LOG")
    echo "test: $mpm MPM: ${*:-all tests}"
    PCHAT_MPM=$mpm
    export PCHAT_MPM
    out=$(mktemp)
    perl t/TEST -httpd "$HTTPD" -apxs /usr/bin/apxs \
        -httpd_conf "$TOP/t/conf/base.conf" -port select -trace=error \
        -order=random "$@" 2>&1 | tee "$out"
    status=$(grep -q "^Result: PASS" "$out" && echo 0 || echo 1)
    if ! grep -Eq "^Files=[0-9]+, Tests=[1-9]" "$out"; then
        echo "test: no test ran under $mpm"
        status=1
    fi
    rm -f "$out"
    tail -c +$((start + 1)) "$LOG" > t/logs/this_run.log
    if grep -Eq "exit signal|Segmentation fault|AddressSanitizer|runtime error:|double free" t/logs/this_run.log; then
        echo "test: the server crashed or reported memory errors:"
        grep -E "exit signal|Segmentation|AddressSanitizer|runtime error:|double free" t/logs/this_run.log | head -20
        status=1
    fi
    if [ "$status" -ne 0 ]; then
        echo "test: error_log of this run (last 60 lines):"
        tail -60 t/logs/this_run.log
    fi
    stop_leftovers
    return "$status"
}

run_suite event
event=$?
prefork=0
if ls t/sse/*.t >/dev/null 2>&1; then
    run_suite prefork t/sse
    prefork=$?
fi

if [ $event -ne 0 ] || [ $prefork -ne 0 ]; then
    echo "Result: FAIL (event: $event, prefork: $prefork)"
    exit 1
fi
echo "Result: PASS (event and prefork)"
