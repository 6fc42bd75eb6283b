#!/bin/sh
# Runs the whole Apache::Test suite on each database backend: on sqlite
# every test under the event MPM, then the stream tests again under prefork
# (the blocking fallback); on PostgreSQL (a throwaway server started here)
# every test under the event MPM with the module built with AddressSanitizer
# and UBSan (PCHAT_SANITIZE=none: the plain build there too; =sqlite3: the
# sanitizer pass on sqlite instead), then t/cluster/wakeup.t under prefork.  PCHAT_BACKENDS="sqlite3" limits it to
# one backend, PCHAT_TESTS="t/cluster t/api/crud.t" to some tests (event
# MPM only), PCHAT_TEST_PORT=8600 a fixed first port (the virtual hosts take
# the ports after it) so that two checkouts can run their suites at once.
# Exits non-zero on any failure, on a crash in the error log, and when no
# test ran.  Called by `make test` after the build.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
PLAIN_HTTPD=${HTTPD:-/usr/sbin/apache2}
SANITIZE=${PCHAT_SANITIZE:-pgsql}
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

PG_DIR=""
PG_PORT=""

stop_postgres() {
    [ -n "$PG_DIR" ] && sh scripts/pg.sh stop "$PG_DIR" >/dev/null 2>&1
    [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
    PG_DIR=""
}
trap 'stop_postgres; stop_parallel_pass' EXIT
trap 'exit 1' INT TERM

# A PostgreSQL server of our own, on the first free port from 25432.
start_postgres() {
    PG_DIR=$(mktemp -d /tmp/pchat-pg.XXXXXX)
    chmod 755 "$PG_DIR"
    for port in 25432 25433 25434 25435 25436 25437 25438 25439; do
        if sh scripts/pg.sh start "$PG_DIR" "$port" 2>"$PG_DIR/start.err"; then
            PG_PORT=$port
            return 0
        fi
    done
    echo "test: cannot start PostgreSQL:"
    cat "$PG_DIR/start.err" "$PG_DIR/server.log" 2>/dev/null | tail -20
    return 1
}

# Points the test config (t/conf/extra.conf.in reads the environment) and
# the tests' db_exec at an empty database of the backend, and at the
# module build for it.
use_backend() {
    if [ "$1" = "$SANITIZE" ]; then
        HTTPD=$TOP/scripts/httpd-asan.sh
        PCHAT_MODULE=$TOP/build/asan/.libs/mod_payloadchat.so
        BUILD="sanitizers"
    else
        HTTPD=$PLAIN_HTTPD
        PCHAT_MODULE=$TOP/.libs/mod_payloadchat.so
        BUILD="plain build"
    fi
    export PCHAT_MODULE
    PCHAT_DB_DRIVER=$1
    PCHAT_TOP=$TOP
    PCHAT_HTTPD=$HTTPD
    export PCHAT_DB_DRIVER PCHAT_TOP PCHAT_HTTPD
    if [ "$1" = pgsql ]; then
        PCHAT_DB_PARAMS=$(sh scripts/pg.sh params "$PG_DIR" "$PG_PORT")
        PCHAT_DB_PARAMS_PURGE=$(sh scripts/pg.sh params "$PG_DIR" "$PG_PORT" \
                                pchat_purge)
        PCHAT_DB_PARAMS_CONTRACT=$(sh scripts/pg.sh params "$PG_DIR" \
                                   "$PG_PORT" pchat_contract)
        PCHAT_PG_DIR=$PG_DIR
        PCHAT_PG_PORT=$PG_PORT
        export PCHAT_PG_DIR PCHAT_PG_PORT
    else
        PCHAT_DB_PARAMS=$TOP/t/run/db/payloadchat.sqlite
        PCHAT_DB_PARAMS_PURGE=$TOP/t/run/db/purge.sqlite
        PCHAT_DB_PARAMS_CONTRACT=$TOP/t/run/db/contract.sqlite
    fi
    # t/sse/purge.t purges its own database, not the one the others share;
    # t/contract/payload.t needs one that starts empty
    export PCHAT_DB_PARAMS PCHAT_DB_PARAMS_PURGE PCHAT_DB_PARAMS_CONTRACT
}

fresh_database() {
    rm -rf t/run
    mkdir -p t/run/db
    if [ "$(id -u)" -eq 0 ]; then
        # children run as nobody: the sqlite directory (WAL files) is theirs
        chown nobody:nogroup t/run/db
    fi
    if [ "$PCHAT_DB_DRIVER" = pgsql ]; then
        sh scripts/pg.sh reset "$PG_DIR" "$PG_PORT"
    fi
    make_certificate
}

# A self-signed certificate for the TLS virtual host (t/sse/tls.t, h2.t):
# made for each run, kept out of git under t/run.
make_certificate() {
    PCHAT_SSL_DIR=$TOP/t/run/ssl
    export PCHAT_SSL_DIR
    mkdir -p "$PCHAT_SSL_DIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
        -nodes -days 2 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
        -addext basicConstraints=critical,CA:FALSE \
        -keyout "$PCHAT_SSL_DIR/key.pem" -out "$PCHAT_SSL_DIR/cert.pem" \
        >/dev/null 2>&1 || echo "test: cannot make the test certificate"
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
    echo "test: $PCHAT_DB_DRIVER, $mpm MPM, $BUILD: $( [ $# -gt 3 ] && echo "$# files" || echo "${*:-all tests}")"
    PCHAT_MPM=$mpm
    export PCHAT_MPM
    out=$(mktemp)
    perl t/TEST -httpd "$HTTPD" -apxs /usr/bin/apxs \
        -httpd_conf "$TOP/t/conf/base.conf" -port "${PCHAT_TEST_PORT:-select}" -trace=error \
        -order=random ${PCHAT_VERBOSE:+-verbose} "$@" 2>&1 | tee "$out"
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

# The whole suite runs the PostgreSQL pass at the same time as the sqlite
# one, from a copy of the tree (its own t/conf, t/logs, t/run and ports):
# most of a test file's time is waiting on the server, so two passes on two
# cores take little more than the longer one (make test: ~15 min one after
# the other).  The sqlite prefork pass runs there too, after the pgsql
# ones, which leaves the two sides about as long.  PCHAT_SERIAL=1 runs
# everything one after the other.
PAR_DIR=""
PAR_PID=""
start_parallel_pass() {
    PAR_DIR=$(mktemp -d /tmp/pchat-pass.XXXXXX)
    chmod 755 "$PAR_DIR"
    tar -C "$TOP" --exclude=./.git --exclude=./t/logs --exclude=./t/run \
        --exclude=./t/browser/node_modules --exclude=./fuzz/out \
        --exclude=./unit/out -cf - . | tar -C "$PAR_DIR" -xf -
    port=$(( ${PCHAT_TEST_PORT:-8529} + 300 ))
    echo "test: pgsql passes and sqlite prefork started beside the sqlite event pass (port $port, $PAR_DIR)"
    ( cd "$PAR_DIR" && PCHAT_BACKENDS="pgsql sqlite3" PCHAT_TEST_PORT=$port \
        PCHAT_PREFORK_ONLY=sqlite3 PCHAT_NO_FUZZ=1 sh scripts/test.sh > "$PAR_DIR/pass.log" 2>&1 ) &
    PAR_PID=$!
}

finish_parallel_pass() {
    [ -n "$PAR_PID" ] || return 0
    wait "$PAR_PID"
    rc=$?
    echo "test: ---- the pgsql passes and sqlite prefork (run beside the sqlite event pass) ----"
    cat "$PAR_DIR/pass.log"
    [ "$rc" -eq 0 ] || failed="$failed pgsql+sqlite3/prefork"
    rm -rf "$PAR_DIR"
    PAR_PID=""
}

# interrupted: the other pass's test script (it stops its PostgreSQL) and
# its Apache
stop_parallel_pass() {
    [ -n "$PAR_PID" ] || return 0
    pkill -TERM -P "$PAR_PID" 2>/dev/null
    pkill -TERM -f -- "-f $PAR_DIR/t/conf/httpd.conf" 2>/dev/null
    wait "$PAR_PID" 2>/dev/null
    rm -rf "$PAR_DIR"
}

backends=${PCHAT_BACKENDS:-sqlite3 pgsql}
failed=""
if [ -z "${PCHAT_TESTS:-}" ] && [ -z "${PCHAT_SERIAL:-}" ] \
   && [ "$backends" = "sqlite3 pgsql" ]; then
    start_parallel_pass
    backends=sqlite3
    NO_PREFORK=sqlite3
fi
for backend in $backends; do
    if [ "$backend" = pgsql ] && [ -z "$PG_DIR" ]; then
        start_postgres || { failed="$failed pgsql-start"; continue; }
    fi
    use_backend "$backend"
    files=${PCHAT_TESTS:-}
    if [ -z "$files" ] && [ "$backend" != sqlite3 ]; then
        # what does not touch the database runs once, in the sqlite pass:
        # the browser, the directives, the page's headers, slow clients,
        # the log filter, body parsing costs, and memory (which the
        # sanitizers' quarantine hides anyway)
        # (TLS is the transport's, not the database's: h2.t stays for the
        # sanitizers; tls.t and quiet.t's keep-alive timing run once)
        files=$(ls t/*/*.t | grep -Ev '^t/(browser|config)/|^t/api/(page_headers|cost_body)\.t|^t/sse/(reqtimeout|memory|tls|quiet)\.t|^t/ops/fail2ban\.t')
    fi
    # shellcheck disable=SC2086
    if [ "${PCHAT_PREFORK_ONLY:-}" != "$backend" ]; then
        run_suite event $files || failed="$failed $backend/event"
    fi
    # prefork: the stream tests on sqlite; on PostgreSQL the listening
    # connection, which prefork keeps per process rather than per hub thread
    if [ -z "${PCHAT_TESTS:-}" ] && [ "${NO_PREFORK:-}" != "$backend" ]; then
        # (memory.t and reqtimeout.t are about the event MPM's threads)
        prefork_files=$(ls t/sse/*.t | grep -Ev '^t/sse/(memory|reqtimeout)\.t')
        [ "$backend" = sqlite3 ] || prefork_files=t/cluster/wakeup.t
        run_suite prefork $prefork_files || failed="$failed $backend/prefork"
    fi
done
stop_postgres
finish_parallel_pass

# The fuzz targets' smoke pass: regression inputs, then a few seconds each.
if [ -z "${PCHAT_TESTS:-}" ] && [ -z "${PCHAT_NO_FUZZ:-}" ]; then
    echo "test: fuzz smoke pass"
    make -s -C fuzz smoke SECONDS="${PCHAT_FUZZ_SECONDS:-5}" \
        || failed="$failed fuzz"
fi

if [ -n "$failed" ]; then
    echo "Result: FAIL ($failed )"
    exit 1
fi
echo "Result: PASS (${PCHAT_BACKENDS:-sqlite3 pgsql}; sanitizers on $SANITIZE)"
