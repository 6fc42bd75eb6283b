# mod_reqtimeout as the shipped configs set it (t/conf/extra.conf.in: the
# same stages, shorter): a client that dribbles its request headers a byte
# a second (slowloris) is cut within the header stage's bound, while a
# stream opened meanwhile outlives every stage of it and still delivers.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use IO::Select ();
use IO::Socket::INET ();
use Time::HiRes qw(time sleep);
use PChat::Test;
use PChat::SSE;

local $SIG{PIPE} = 'IGNORE';
my $HEADER_MAX = 8;   # header=4-8 in t/conf/extra.conf.in
my $HOLD = 12;        # longer than every stage (handshake 5, header 8, body 4)

my ($a, $b) = (make_user(), make_user());
my $tag = uniq('reqtimeout');
my $s = PChat::SSE->watch($tag);   # the main server: no keep-alive for 30 s

my (undef, $port) = split /:/, hostport();
my $slow = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                 Proto => 'tcp', Timeout => 10)
    or die "connect: $!";
my @bytes = split //, "GET /api/messages HTTP/1.1\r\nHost: localhost\r\n"
                      . "X-Slow: " . ('a' x 100);
my $sel = IO::Select->new($slow);
my ($start, $cut_after, $answer) = (time, undef, '');
while (time - $start < $HOLD) {
    if (!defined $cut_after) {
        if ($sel->can_read(0)) {
            my $got = sysread($slow, my $buf, 4096);
            $answer .= $buf if $got;
            $cut_after = time - $start if !$got;
        }
        elsif (!defined syswrite($slow, shift @bytes)) {
            $cut_after = time - $start;
        }
    }
    sleep 1;
}
ok defined $cut_after, 'a client dribbling its headers is cut'
    or diag "still connected after $HOLD s";
cmp_ok $cut_after // 99, '<=', $HEADER_MAX + 2,
       "within the header stage's bound ($HEADER_MAX s)";
like $answer, qr{^(HTTP/1\.1 408|$)}, 'with a 408 or nothing';
close $slow;

my ($res) = get_json('/api/messages/count');
is $res->code, 200, 'the server still answers';

my $sent = time;
make_message($a, $b, "$tag after the timeouts");
my @docs = PChat::SSE::docs_of('message',
    $s->collect(5, sub { grep { ($_->{event} // '') eq 'message' } @{$_[0]} }));
is scalar @docs, 1, "a stream open for ${\ int(time - $start)} s still delivers";
like $docs[0]{content} // '', qr/after the timeouts/, 'the message';
ok !$s->is_eof, 'and stays open';
$s->close;

done_testing();
