#!/usr/bin/python3
"""h2 connections that hold a stream each also hold an event-MPM worker:
opens N connections one after the other, one stream on each, and after
each one times a plain request on a new HTTP/1.1 connection.  Holds
everything until stdin closes.  For bench/h2conns.sh.
usage: h2conns.py TLS_PORT N"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 't', 'lib'))
import h2sse  # noqa: E402


def plain_request(port):
    t0 = time.time()
    out = subprocess.run(
        ['curl', '-sk', '--http1.1', '-o', '/dev/null', '-w', '%{http_code}',
         '--max-time', '3', 'https://127.0.0.1:%d/api/messages?limit=1' % port],
        capture_output=True, text=True).stdout
    return out, time.time() - t0


def main():
    port, n = int(sys.argv[1]), int(sys.argv[2])
    held = []
    for i in range(1, n + 1):
        try:
            c = h2sse.Conn(port, True)
            status = c.open_stream('/api/messages/sse?since=0', timeout=5).status
            held.append(c)
        except OSError:
            status = 'none (no TLS handshake)'
        code, took = plain_request(port)
        print('connection %2d: stream %s; then a plain GET: %s in %.2f s'
              % (i, status, code if code != '000' else 'no answer', took),
              flush=True)
    print('open', flush=True)
    sys.stdin.read()


if __name__ == '__main__':
    main()
