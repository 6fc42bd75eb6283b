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
    for _ in $(seq 1 100); do   # thousands of threads take a while
        [ -f "$1/httpd.pid" ] || return 0
        sleep 0.1
    done
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

# build_sseload DEST [SOURCE]: compiles the stream load client (TLS through
# OpenSSL, h2 through libnghttp2).
build_sseload() {
    sh "$TOP/scripts/deps.sh" libnghttp2-dev
    cc -O2 -Wall -Wextra -Werror -o "$1" "${2:-$TOP/bench/sseload.c}" \
        -lssl -lcrypto -lnghttp2
}

# Total RSS (KiB) and threads of Apache's children.
apache_rss_threads() {
    children_rss_threads "$(cat "$1/httpd.pid")"
}

# Total RSS (KiB) and threads of the children of process PPID.
children_rss_threads() {
    ppid=$1
    rss=0 thr=0
    for p in $(pgrep -P "$ppid"); do
        # a child that exits meanwhile counts 0
        r=$(awk '/VmRSS/ {print $2}' /proc/$p/status 2>/dev/null) || r=0
        t=$(awk '/Threads/ {print $2}' /proc/$p/status 2>/dev/null) || t=0
        rss=$((rss + ${r:-0})); thr=$((thr + ${t:-0}))
    done
    echo "$rss $thr"
}

# make_cert DIR: a self-signed P-256 certificate for localhost, DIR/cert.pem
# and DIR/key.pem (the benchmarks' TLS servers; clients do not check it).
make_cert() {
    mkdir -p "$1"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -days 2 -subj /CN=localhost -addext basicConstraints=critical,CA:FALSE \
        -keyout "$1/key.pem" -out "$1/cert.pem" >/dev/null 2>&1
}

# tls_conf PORT CERTDIR: Apache config lines for a TLS virtual host on
# 127.0.0.1:PORT that speaks h2 and http/1.1 (mod_ssl, mod_http2 loaded)
# and serves the chat as the main server does.
tls_conf() {
    cat <<EOC
LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so
LoadModule http2_module /usr/lib/apache2/modules/mod_http2.so
Listen 127.0.0.1:$1
<VirtualHost 127.0.0.1:$1>
    SSLEngine on
    SSLCertificateFile $2/cert.pem
    SSLCertificateKeyFile $2/key.pem
    Protocols h2 http/1.1
    PayloadChat On
</VirtualHost>
EOC
}
