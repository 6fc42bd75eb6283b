# The stream over HTTPS with HTTP/1.1 (ALPN), on the TLS virtual host that
# also offers h2: live delivery, a burst once and in order, keep-alives,
# resume, a closed connection released, a graceful restart.  Suspended on
# the event MPM, the blocking loop under prefork: both write through
# mod_ssl.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use IO::Socket::INET ();
use Socket ();
use Apache::Test ();
use Apache::TestRequest ();
use PChat::Test;
use PChat::SSE;

my ($a, $b) = (make_user(), make_user());
my $tag = uniq('tls');
my $path = "/api/messages/sse?where[content][like]=$tag";
Apache::TestRequest::module('pchat_tls');
my $tls = Apache::TestRequest::hostport();
on_server(undef);

sub subscribers {
    my ($res, $data) = get_json('/api/messages/sse/stats');
    return $data->{$_[0] // 'subscribers'};
}

sub wait_for {
    my ($cond, $timeout) = @_;
    my $deadline = time + $timeout;
    until ($cond->()) {
        return 0 if time > $deadline;
        select undef, undef, undef, 0.1;
    }
    return 1;
}

sub contents { map { $_->{content} } PChat::SSE::docs_of('message', @_) }

sub until_content {
    my ($s, $want, $timeout) = @_;
    return $s->collect($timeout // 10, sub {
        grep { $_ eq $want } contents(@{$_[0]});
    });
}

my $base = subscribers();
my $base_h2 = subscribers('h2Subscribers');
my $s = PChat::SSE->open_tls($tls, $path);
is $s->status, 200, 'the stream answers 200 over TLS';
is $s->{alpn}, 'http/1.1', 'on HTTP/1.1 by ALPN';
like $s->header('content-type'), qr{^text/event-stream}, 'text/event-stream';
ok $s->next_event(5) && $s->next_event(5), 'first events: retry, cursor';
is subscribers(), $base + 1, 'stats count it';
is subscribers('h2Subscribers'), $base_h2, '... not among the h2 subscribers';

my @all;
my $t0 = time;
make_message($a, $b, "$tag live");
my @ev = until_content($s, "$tag live", 5);
push @all, @ev;
ok grep({ $_ eq "$tag live" } contents(@ev)), 'live delivery';
cmp_ok time - $t0, '<', 3, 'within 3 s';

my @burst = map { sprintf "%s burst %02d", $tag, $_ } 1 .. 12;
make_message($a, $b, $_) for @burst;
@ev = until_content($s, $burst[-1]);
push @all, @ev;
is_deeply [grep { /burst/ } contents(@ev)], \@burst,
          'a burst of 12: each once, in order';

@ev = $s->collect(6, sub { grep { ($_->{event} // '') eq 'ping' } @{$_[0]} });
ok grep({ ($_->{event} // '') eq 'ping' } @ev), 'a keep-alive (every 2 s here)';

my ($last) = grep { defined } map { $_->{id} } reverse @all;
$s->close;
ok wait_for(sub { subscribers() == $base }, 5),
   'a closed TLS connection is released (stats back)';

my @missed = map { "$tag missed $_" } 1 .. 3;
make_message($a, $b, $_) for @missed;
my $r = PChat::SSE->open_tls($tls, $path, 'Last-Event-ID' => $last);
@ev = until_content($r, $missed[-1]);
is_deeply [contents(@ev)], \@missed, 'Last-Event-ID: exactly the missed ones';
my ($cursor) = grep { defined } map { $_->{id} } reverse @ev;

# A client that stops reading is dropped (it would resume with its last
# id), not left to fill the server's buffers: on the event MPM within 5 s
# of its socket filling up.  Under prefork the blocking loop waits for the
# server's Timeout instead.
SKIP: {
    skip 'prefork: a slow reader holds its process for Timeout', 1
        if ($ENV{PCHAT_MPM} // '') eq 'prefork';
    require IO::Socket::SSL;
    my ($port) = $tls =~ /(\d+)$/;
    my $raw = IO::Socket::INET->new(Proto => 'tcp') or die $!;
    setsockopt($raw, Socket::SOL_SOCKET(), Socket::SO_RCVBUF(), 4096);
    $raw->connect(Socket::pack_sockaddr_in($port, Socket::inet_aton('127.0.0.1')))
        or die "connect: $!";
    IO::Socket::SSL->start_SSL($raw, SSL_verify_mode => 0) or die 'TLS';
    my $slow = uniq('tlsslow');
    print $raw "GET /api/messages/sse?where[content][like]=$slow HTTP/1.1\r\n"
             . "Host: localhost\r\n\r\n";
    sysread $raw, my $head, 200;
    my $base2 = subscribers();
    my $big = "$slow " . ('x' x 15000);
    for (1 .. 600) {   # up to 9 MB that the reader never takes
        make_message($a, $b, $big);
        last if $_ % 20 == 0 && subscribers() < $base2;
    }
    ok wait_for(sub { subscribers() < $base2 }, 20),
       'a TLS client that stops reading is dropped';
    close $raw;
}

# a graceful restart ends the stream; a reconnect loses nothing
open my $fh, '<', Apache::Test::vars('t_pid_file') or die $!;
chomp(my $pid = <$fh>);
kill 'USR1', $pid;
my @rest = $r->collect(15, sub { $r->is_eof });
ok $r->is_eof, 'the stream ended at the graceful restart';
sleep 1;
make_message($a, $b, "$tag after");
my $z = PChat::SSE->open_tls($tls, $path, 'Last-Event-ID' => $cursor);
@ev = until_content($z, "$tag after");
is_deeply [contents(@rest, @ev)], ["$tag after"],
          'resumed after the restart: no loss, no repeat';
$z->close;

done_testing;
