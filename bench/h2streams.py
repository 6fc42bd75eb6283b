#!/usr/bin/python3
"""Opens N streams to /api/messages/sse and holds them until stdin closes,
for bench/h2cost.sh.  usage: h2streams.py h2|h1 PORT N [PER_CONNECTION]
h2: N streams over HTTP/2 (TLS), PER_CONNECTION on each connection;
h1: N HTTPS/1.1 connections, one stream each.  Prints "open K" once K
streams have answered 200 and sent their first event."""
import os
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 't', 'lib'))
import h2sse  # noqa: E402


def h1_stream(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(['http/1.1'])
    s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)),
                        server_hostname='localhost')
    s.sendall(b'GET /api/messages/sse?since=0 HTTP/1.1\r\nHost: localhost'
              b'\r\nAccept: text/event-stream\r\n\r\n')
    s.settimeout(10)
    head = b''
    while b'retry:' not in head:
        data = s.recv(4096)
        if not data:
            break
        head += data
    return s if head.startswith(b'HTTP/1.1 200') else None


def main():
    kind, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    per = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    held, opened = [], 0
    if kind == 'h1':
        for _ in range(n):
            s = h1_stream(port)
            if s:
                held.append(s)
                opened += 1
    else:
        while opened < n:
            c = h2sse.Conn(port, True)
            k = min(per, n - opened)
            streams = [c.request('GET', '/api/messages/sse?since=0',
                                 headers=[('accept', 'text/event-stream')])
                       for _ in range(k)]
            c.wait(lambda: all(s.events or s.ended for s in streams), 10)
            opened += sum(1 for s in streams if s.status == 200
                          and s.events)
            held.append(c)
            if not any(s.status == 200 for s in streams):
                break
    print('open %d' % opened, flush=True)
    deadline = time.time() + 600
    while time.time() < deadline:   # keep reading, as a client does
        for c in held:
            if isinstance(c, h2sse.Conn):
                c.pump(0)
        if sys.stdin in __import__('select').select([sys.stdin], [], [],
                                                    0.5)[0]:
            if not sys.stdin.readline():
                break


main()
