# Shared by the benchmarks: start and stop an Apache of our own with the
# module, on 127.0.0.1, from conf/httpd.conf.in plus extra lines.
TOP=$(cd "$(dirname "$0")/.." && pwd)
HTTPD=${HTTPD:-/usr/sbin/apache2}

# start_apache PORT RUNDIR EXTRA_CONFIG_LINES (waits START_TRIES x 0.1 s)
start_apache() {
    port=$1 rundir=$2 extra=$3
    rm -rf "$rundir"
    mkdir -p "$rundir/db"
    ug=""
    if [ "$(id -u)" -eq 0 ]; then
        ug="User www-data
Group www-data"
        chown www-data:www-data "$rundir/db"
    fi
    # MODULE=path/mod_payloadchat.so: another build (a before/after pair)
    sed -e "s|@TOP@/.libs/mod_payloadchat.so|${MODULE:-@TOP@/.libs/mod_payloadchat.so}|" \
        -e "s|@RUNDIR@|$rundir|g" -e "s|@TOP@|$TOP|g" -e "s|@PORT@|$port|g" \
        "$TOP/conf/httpd.conf.in" | awk -v ug="$ug" \
        '{ if ($0 == "@USERGROUP@") print ug; else print }' > "$rundir/httpd.conf"
    printf '%s\n' "$extra" >> "$rundir/httpd.conf"
    "$HTTPD" -f "$rundir/httpd.conf" -k start
    for _ in $(seq 1 "${START_TRIES:-50}"); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
        sleep 0.1
    done
    echo "bench: Apache did not start; see $rundir/error_log" >&2
    return 1
}

stop_apache() {
    "$HTTPD" -f "$1/httpd.conf" -k stop 2>/dev/null
    sleep 1
}

# CPU time (utime + stime, clock ticks) of Apache's children.
apache_cpu_ticks() {
    ppid=$(cat "$1/httpd.pid")
    t=0
    for p in $(pgrep -P "$ppid"); do
        t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
    done
    echo "$t"
}

# Total RSS (KiB) and threads of Apache's children.
apache_rss_threads() {
    ppid=$(cat "$1/httpd.pid")
    rss=0 thr=0
    for p in $(pgrep -P "$ppid"); do
        r=$(awk '/VmRSS/ {print $2}' /proc/$p/status)
        t=$(awk '/Threads/ {print $2}' /proc/$p/status)
        rss=$((rss + r)); thr=$((thr + t))
    done
    echo "$rss $thr"
}
