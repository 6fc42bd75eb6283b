#!/usr/bin/python3
"""The stream over HTTP/2, for t/sse/h2.t (which runs this file and passes
its TAP through).  Perl has no HTTP/2 client; Debian's python3-h2 is the
protocol engine and this file drives it over one socket, so a test can
multiplex streams on one connection, reset single streams (RST_STREAM) and
send API requests beside them.

usage: h2sse.py SCENARIO PORT TLS(0|1) PIDFILE
"""
import codecs
import json
import os
import re
import select
import signal
import socket
import ssl
import sys
import time

sys.path.insert(0, '/usr/lib/python3/dist-packages')
import h2.config      # noqa: E402
import h2.connection  # noqa: E402
import h2.errors      # noqa: E402
import h2.events      # noqa: E402
import h2.exceptions  # noqa: E402

# ---- TAP ------------------------------------------------------------------

_count = 0
_failed = 0


def ok(cond, name):
    global _count, _failed
    _count += 1
    if not cond:
        _failed += 1
    print('%s %d - %s' % ('ok' if cond else 'not ok', _count, name),
          flush=True)
    return cond


def is_(got, want, name):
    if not ok(got == want, name):
        diag('got: %r' % (got,))
        diag('expected: %r' % (want,))


def diag(text):
    for line in str(text).splitlines():
        print('# ' + line, flush=True)


def done():
    print('1..%d' % _count, flush=True)
    sys.exit(1 if _failed else 0)


def wait_until(cond, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


# ---- an HTTP/2 connection -------------------------------------------------

class Stream:
    def __init__(self, sid):
        self.id = sid
        self.status = None
        self.headers = {}
        self.body = b''
        self.ended = False
        self.reset = False
        self.events = []
        self._text = ''
        self._parsed = 0
        # a DATA frame may end inside a UTF-8 character: keep its first
        # bytes until the rest comes
        self._utf8 = codecs.getincrementaldecoder('utf-8')()

    def parse(self):
        """Moves whole SSE blocks of the body into self.events."""
        self._text += self._utf8.decode(self.body[self._parsed:])
        self._parsed = len(self.body)
        while '\n\n' in self._text:
            block, self._text = self._text.split('\n\n', 1)
            ev = {}
            for line in block.split('\n'):
                if line.startswith(':'):
                    ev['comment'] = line[1:].strip()
                    continue
                if ':' not in line:
                    continue
                k, v = line.split(':', 1)
                v = v[1:] if v.startswith(' ') else v
                ev[k] = ev[k] + '\n' + v if k == 'data' and k in ev else v
            self.events.append(ev)

    def docs(self, kind='message'):
        """The docs of every event of one kind, in order."""
        out = []
        for ev in self.events:
            if ev.get('event') == kind:
                out.extend(json.loads(ev['data']))
        return out

    def last_id(self):
        ids = [ev['id'] for ev in self.events if 'id' in ev]
        return ids[-1] if ids else None


class Conn:
    def __init__(self, port, tls):
        sock = socket.create_connection(('127.0.0.1', port), timeout=10)
        self.alpn = None
        if tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_alpn_protocols(['h2'])
            sock = ctx.wrap_socket(sock, server_hostname='localhost')
            self.alpn = sock.selected_alpn_protocol()
        sock.setblocking(False)
        self.sock = sock
        self.tls = tls
        self.closed = False
        self.goaway = False
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding='utf-8'))
        self.h2.initiate_connection()
        self.streams = {}
        self._send()

    def _send(self):
        data = self.h2.data_to_send()
        while data:
            try:
                n = self.sock.send(data)
                data = data[n:]
            except (ssl.SSLWantWriteError, BlockingIOError):
                select.select([], [self.sock], [], 1)
            except OSError:
                self.closed = True
                return

    def request(self, method, path, body=None, headers=()):
        sid = self.h2.get_next_available_stream_id()
        hdrs = [(':method', method), (':path', path),
                (':scheme', 'https' if self.tls else 'http'),
                (':authority', 'localhost')] + list(headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs += [('content-type', 'application/json'),
                     ('content-length', str(len(data)))]
        self.h2.send_headers(sid, hdrs, end_stream=data is None)
        if data is not None:
            self.h2.send_data(sid, data, end_stream=True)
        self.streams[sid] = Stream(sid)
        self._send()
        return self.streams[sid]

    def cancel(self, stream):
        self.h2.reset_stream(stream.id, h2.errors.ErrorCodes.CANCEL)
        stream.reset = True
        self._send()

    def pump(self, timeout):
        """Reads and handles what arrives within timeout seconds."""
        if self.closed:
            time.sleep(timeout)
            return
        if not (self.tls and self.sock.pending()):
            r, _, _ = select.select([self.sock], [], [], timeout)
            if not r:
                return
        try:
            data = self.sock.recv(65536)
        except (ssl.SSLWantReadError, BlockingIOError):
            return
        except OSError:
            data = b''
        if not data:
            self.closed = True
            return
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError:
            # frames after the server's GOAWAY (a graceful restart): the
            # connection is over for this client
            self.goaway = self.closed = True
            return
        for ev in events:
            st = self.streams.get(getattr(ev, 'stream_id', None))
            if isinstance(ev, h2.events.ResponseReceived) and st:
                st.headers = dict(ev.headers)
                st.status = int(st.headers[':status'])
            elif isinstance(ev, h2.events.DataReceived):
                self.h2.acknowledge_received_data(ev.flow_controlled_length,
                                                  ev.stream_id)
                if st and not st.reset:
                    st.body += ev.data
                    st.parse()
            elif isinstance(ev, h2.events.StreamEnded) and st:
                st.ended = True
            elif isinstance(ev, h2.events.StreamReset) and st:
                st.reset = True
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.goaway = True
        self._send()

    def wait(self, cond, timeout):
        deadline = time.time() + timeout
        while not cond() and time.time() < deadline and not self.closed:
            self.pump(min(0.2, max(0, deadline - time.time())))
        return cond()

    def call(self, method, path, body=None, timeout=30):
        """An API request; returns (status, decoded JSON or None).  The
        first requests of a sanitizer build on a fresh database are slow."""
        st = self.request(method, path, body)
        self.wait(lambda: st.ended or st.reset, timeout)
        try:
            data = json.loads(st.body.decode() or 'null')
        except ValueError:
            data = None
        return (st.status if st.ended else None), data

    def open_stream(self, path, headers=(), timeout=20):
        """A stream, read up to its first event (the retry line)."""
        st = self.request('GET', path, headers=[
            ('accept', 'text/event-stream')] + list(headers))
        self.wait(lambda: st.events or st.ended or st.reset, timeout)
        return st

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True


# ---- helpers over the API -------------------------------------------------

_uniq = [0]


def uniq(prefix):
    _uniq[0] += 1
    return '%s-%d-%d-%d' % (prefix, os.getpid(), int(time.time() * 1000),
                            _uniq[0])


def make_user(c):
    status, data = c.call('POST', '/api/users', {
        'email': uniq('h2user') + '@example.com', 'password': 'password123'})
    if status != 201:
        raise RuntimeError('make_user: %r %r' % (status, data))
    return data['doc']['id']


def make_message(c, a, b, content):
    status, data = c.call('POST', '/api/messages?depth=0', {
        'sender': a, 'receiver': b, 'content': content})
    if status != 201:
        raise RuntimeError('make_message: %r %r' % (status, data))
    return data['doc']


def subscribers(c, key='subscribers'):
    status, data = c.call('GET', '/api/messages/sse/stats')
    return data.get(key) if status == 200 else None


def contents(stream):
    return [d['content'] for d in stream.docs()]


def watch_path(tag):
    return '/api/messages/sse?where[content][like]=' + tag


# ---- scenarios ------------------------------------------------------------

def scenario_basic(port, tls, pidfile):
    """Live delivery, a burst once in order, keep-alive, delete, resume after
    a reset stream, and a reset stream or a closed connection released."""
    c = Conn(port, tls)
    if tls:
        is_(c.alpn, 'h2', 'ALPN chose h2')
    a, b = make_user(c), make_user(c)
    base = subscribers(c)
    base_h2 = subscribers(c, 'h2Subscribers')
    tag = uniq('h2basic')
    s = c.open_stream(watch_path(tag))
    is_(s.status, 200, 'the stream answers 200 over h2')
    ok(s.headers.get('content-type', '').startswith('text/event-stream'),
       'as text/event-stream')
    ok(c.wait(lambda: len(s.events) >= 2, 5), 'first events: retry, cursor')
    time.sleep(1.5)
    ok(not s.ended and not s.reset, 'the stream is still open after 1.5 s')
    is_(subscribers(c), base + 1, 'stats count the h2 subscriber')
    is_(subscribers(c, 'h2Subscribers'), base_h2 + 1,
        '... among the h2 subscribers')

    t0 = time.time()
    make_message(c, a, b, tag + ' live')
    ok(c.wait(lambda: tag + ' live' in contents(s), 5), 'live delivery')
    ok(time.time() - t0 < 3, 'within 3 s (%.2f s)' % (time.time() - t0))

    burst = ['%s burst %02d' % (tag, i) for i in range(12)]
    for text in burst:
        make_message(c, a, b, text)
    c.wait(lambda: burst[-1] in contents(s), 10)
    is_([x for x in contents(s) if ' burst ' in x], burst,
        'a burst of 12: each once, in order')

    s.events.clear()
    ok(c.wait(lambda: any(e.get('event') == 'ping' for e in s.events), 6),
       'a keep-alive within 6 s (every 2 s here)')

    doc = make_message(c, a, b, tag + ' doomed')
    c.wait(lambda: tag + ' doomed' in contents(s), 5)
    status, _ = c.call('DELETE', '/api/messages/%s' % doc['id'])
    is_(status, 200, 'deleted')
    ok(c.wait(lambda: doc['id'] in [d['id'] for d in s.docs('delete')], 5),
       'the delete event arrives')

    cursor = s.last_id()
    c.cancel(s)
    ok(wait_until(lambda: subscribers(c) == base, 5),
       'RST_STREAM: the subscriber is released (stats back)')
    is_(subscribers(c, 'h2Subscribers'), base_h2, '... h2 subscribers too')
    missed = ['%s missed %d' % (tag, i) for i in range(3)]
    for text in missed:
        make_message(c, a, b, text)
    r = c.open_stream(watch_path(tag), [('last-event-id', cursor)])
    c.wait(lambda: missed[-1] in contents(r), 5)
    is_(contents(r), missed, 'Last-Event-ID on the same connection: exactly '
        'the missed ones')

    # other API requests on the connection still answer while it streams
    status, data = c.call('GET', '/api/messages?limit=1')
    is_(status, 200, 'an API request beside the stream answers')

    # the whole connection closes: its streams are released
    d = Conn(port, tls)
    d.open_stream(watch_path(tag))
    d.open_stream(watch_path(tag))
    ok(wait_until(lambda: subscribers(c) == base + 3, 5),
       'two more streams on a second connection')
    d.close()
    ok(wait_until(lambda: subscribers(c) == base + 1, 5),
       'connection closed: both released')
    c.cancel(r)
    ok(wait_until(lambda: subscribers(c) == base, 5), 'all released')
    c.close()


def warm_up(c):
    """Requests that finish, as a page load makes: mod_http2 then serves
    more requests of the connection at a time (6 at first, doubled when
    one finishes 100 ms after the last change, up to H2MaxWorkers)."""
    for _ in range(4):
        time.sleep(0.12)
        c.call('GET', '/api/messages/sse/stats')


def scenario_multiplex(port, tls, pidfile):
    """20 streams on one connection all get a message; 16 are cancelled; the
    other 4 and new API requests on the same connection still answer."""
    c = Conn(port, tls)
    a, b = make_user(c), make_user(c)
    warm_up(c)
    base = subscribers(c)
    tag = uniq('h2mux')
    streams = [c.request('GET', watch_path(tag),
                         headers=[('accept', 'text/event-stream')])
               for _ in range(20)]
    ok(c.wait(lambda: all(len(s.events) >= 2 for s in streams), 15),
       '20 streams on one connection opened (%d did)'
       % sum(1 for s in streams if len(s.events) >= 2))
    is_([s.status for s in streams], [200] * 20, 'all 200')
    w = Conn(port, tls)
    make_message(w, a, b, tag + ' one')
    ok(c.wait(lambda: all(tag + ' one' in contents(s) for s in streams), 10),
       'all 20 got the message (%d did)'
       % sum(1 for s in streams if tag + ' one' in contents(s)))
    for s in streams[:16]:
        c.cancel(s)
    rest = streams[16:]
    ok(wait_until(lambda: subscribers(w) == base + 4, 10),
       '16 cancelled streams released')
    t0 = time.time()
    status, data = c.call('GET', '/api/messages?limit=1', timeout=10)
    is_(status, 200, 'an API request on the same connection answers')
    ok(time.time() - t0 < 5, 'at once (%.2f s)' % (time.time() - t0))
    status, _ = c.call('POST', '/api/messages?depth=0', {
        'sender': a, 'receiver': b, 'content': tag + ' two'})
    is_(status, 201, 'a POST on the same connection answers')
    ok(c.wait(lambda: all(tag + ' two' in contents(s) for s in rest), 10),
       'the 4 remaining streams got the next message')
    fresh = c.open_stream(watch_path(tag))
    is_(fresh.status, 200, 'a new stream on the same connection opens')
    ok(not any(s.ended or s.reset for s in rest), 'the 4 are still open')
    c.close()
    ok(wait_until(lambda: subscribers(w) == base, 10),
       'connection closed: every stream released')
    w.close()


def scenario_per_connection(port, tls, pidfile):
    """A new connection gets at most 4 streams (the default): the next ones
    are refused with 429 rather than left waiting, and an API request on
    the connection still answers; mod_http2 serves only 6 requests of a new
    connection at a time."""
    c = Conn(port, tls)
    w = Conn(port, tls)
    base = subscribers(w)
    streams = [c.request('GET', '/api/messages/sse?since=0',
                         headers=[('accept', 'text/event-stream')])
               for _ in range(7)]
    c.wait(lambda: all(s.status for s in streams), 10)
    is_(sorted(s.status or 0 for s in streams), [200] * 4 + [429] * 3,
        '7 streams on a new connection: 4 open, 3 refused with 429')
    refused = [s for s in streams if s.status == 429]
    c.wait(lambda: all(s.ended for s in refused), 5)
    ok(all(s.headers.get('retry-after') == '5' for s in refused),
       'with Retry-After: 5')
    try:
        msg = json.loads(refused[0].body)['errors'][0]['message']
    except (ValueError, KeyError, IndexError):
        msg = None
    ok(msg and 'HTTP/2 connection' in msg, 'in Payload\'s error shape: %r'
       % msg)
    t0 = time.time()
    status, _ = c.call('GET', '/api/messages?limit=1', timeout=10)
    is_(status, 200, 'an API request on the connection answers')
    ok(time.time() - t0 < 5, 'at once (%.2f s)' % (time.time() - t0))
    is_(subscribers(w), base + 4, 'the 4 streams are counted')
    c.close()
    ok(wait_until(lambda: subscribers(w) == base, 10), 'and released')
    w.close()


def scenario_per_child(port, tls, pidfile):
    """PayloadChatStreamMaxH2 2: the third h2 stream of the child is refused
    with 503 and Retry-After; once one ends, a new one opens."""
    c = Conn(port, tls)
    s1 = c.open_stream('/api/messages/sse?since=0')
    s2 = c.open_stream('/api/messages/sse?since=0')
    s3 = c.open_stream('/api/messages/sse?since=0')
    is_([s1.status, s2.status], [200, 200], 'two h2 streams open')
    c.wait(lambda: s3.ended, 5)
    is_(s3.status, 503, 'the third is refused with 503')
    is_(s3.headers.get('retry-after'), '5', 'with Retry-After: 5')
    c.cancel(s1)
    s4 = None
    for _ in range(20):
        s4 = c.open_stream('/api/messages/sse?since=0')
        if s4.status == 200:
            break
        time.sleep(0.25)
    is_(s4.status, 200, 'after one ended, a new one opens')
    c.close()


def scenario_per_child_connections(port, tls, pidfile):
    """PayloadChatStreamMaxH2Connections 2: an h2 connection with a stream
    open holds an MPM worker, so once a child has 2 such connections a
    stream that would make a third one hold streams is refused with 503
    and Retry-After, while ordinary requests still answer at once; once
    one of the two closes, that connection's stream opens.  Which child
    takes a connection is the kernel's choice: connections are opened
    until one is refused, and the refused one (whose requests all go to
    that full child) then tries again as the others close."""
    w = Conn(port, tls)
    wait_until(lambda: subscribers(w, 'h2Subscribers') == 0, 10)
    w.close()
    held, refused, s = [], None, None
    for _ in range(30):
        c = Conn(port, tls)
        s = c.open_stream('/api/messages/sse?since=0')
        if s.status != 200:
            c.wait(lambda: s.ended, 5)
            refused = c
            break
        held.append(c)
    if not ok(refused and s.status == 503,
              'a new connection\'s stream refused with 503 once its child '
              'has 2 connections with streams (%d held, then %r)'
              % (len(held), s.status)):
        for c in held:
            c.close()
        return
    is_(s.headers.get('retry-after'), '5', 'with Retry-After: 5')
    try:
        msg = json.loads(s.body)['errors'][0]['message']
    except (ValueError, KeyError, IndexError):
        msg = None
    ok(msg and 'HTTP/2 connections' in msg and '(2,' in msg
       and 'worker thread' in msg,
       'in Payload\'s error shape, saying why: %r' % msg)
    more = held[0].open_stream('/api/messages/sse?since=0')
    is_(more.status, 200, 'a connection that holds a stream opens another')
    held[0].cancel(more)

    n = Conn(port, tls)
    t0 = time.time()
    status, _ = n.call('GET', '/api/messages?limit=1', timeout=10)
    is_(status, 200, 'an API request on a new connection answers')
    ok(time.time() - t0 < 5, 'at once (%.2f s)' % (time.time() - t0))
    st = n.request('GET', '/server-status?auto')
    n.wait(lambda: st.ended, 10)
    counts = re.findall(r'^PayloadChatChild: .* h2_connections=(\d+) ',
                        st.body.decode(errors='replace'), re.M)
    is_(sum(int(x) for x in counts), len(held),
        'mod_status counts the connections with streams open')
    n.close()

    opened = None
    for i, c in enumerate(held):
        c.close()
        for _ in range(10):
            r = refused.open_stream('/api/messages/sse?since=0')
            if r.status == 200:
                opened = i + 1
                break
            refused.wait(lambda: r.ended, 5)
            time.sleep(0.3)
        if opened:
            break
    ok(opened, 'after a connection of that child closed, the refused '
       'connection\'s stream opens (after %r of %d closed)'
       % (opened, len(held)))
    refused.close()
    for c in held:
        c.close()
    # a connection of its own: an idle one is closed by the server
    w = Conn(port, tls)
    ok(wait_until(lambda: subscribers(w, 'h2Subscribers') == 0, 10),
       'every stream released')
    w.close()


def scenario_restart(port, tls, pidfile):
    """A graceful restart ends h2 streams cleanly; resuming loses nothing."""
    c = Conn(port, tls)
    a, b = make_user(c), make_user(c)
    tag = uniq('h2restart')
    s = c.open_stream(watch_path(tag))
    make_message(c, a, b, tag + ' before')
    ok(c.wait(lambda: tag + ' before' in contents(s), 5), 'delivered')
    cursor = s.last_id()
    with open(pidfile) as f:
        os.kill(int(f.read().strip()), signal.SIGUSR1)
    ok(c.wait(lambda: s.ended or s.reset or c.closed or c.goaway, 15),
       'the stream ended at the graceful restart')
    c.close()
    time.sleep(1)
    w = None
    for _ in range(20):
        try:
            w = Conn(port, tls)
            make_message(w, a, b, tag + ' after')
            break
        except (OSError, RuntimeError, h2.exceptions.ProtocolError):
            time.sleep(0.5)
    r = w.open_stream(watch_path(tag), [('last-event-id', cursor)])
    w.wait(lambda: tag + ' after' in contents(r), 10)
    is_(contents(r), [tag + ' after'], 'resumed after the restart: no loss, '
        'no repeat')
    w.close()


if __name__ == '__main__':
    name, port, tls, pidfile = sys.argv[1:5]
    try:
        globals()['scenario_' + name](int(port), tls == '1', pidfile)
    except Exception as e:  # a crash is a failed test, not a silent pass
        ok(False, 'scenario %s ran to its end' % name)
        diag(repr(e))
    done()
