# The quiet server: one subscriber and no other traffic.  A message
# arrives within the poll interval + 250 ms, and keep-alive frames come on
# time for 25 s (the event MPM of httpd 2.4.71 fires no timers on an idle
# server unless something wakes it: the first keep-alive would be missing).
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use PChat::Test;
use PChat::SSE;

on_server('pchat_fast');    # keep-alive every 2 s
my ($a, $b) = (make_user(), make_user());
my $tag = uniq('quiet');
my $s = PChat::SSE->open("/api/messages/sse?where[content][like]=$tag");
$s->next_event(5);              # retry
$s->next_event(5);              # bare id
sleep 2;                        # let the server go idle

my $sent = time;
make_message($a, $b, "$tag ping");
my ($ev) = grep { ($_->{event} // '') eq 'message' }
    $s->collect(3, sub { ($_[0][-1]{event} // '') eq 'message' });
$ev //= {};
my $lag = time - $sent;
is $ev->{event}, 'message', 'the message arrives on an idle server';
cmp_ok $lag, '<', 1.25, sprintf('within 1.25 s (took %.3f s)', $lag);

# silence: keep-alives every 2 s, none missing, none late
my @pings = grep { ($_->{event} // '') eq 'ping' } $s->collect(25);
my @gaps;
my $prev = shift(@pings)->{at};   # the schedule started with the stream
for my $p (@pings) {
    push @gaps, $p->{at} - $prev;
    $prev = $p->{at};
}
cmp_ok scalar @pings, '>=', 10, scalar(@pings) + 1 . ' keep-alives in 25 s';
is((grep { $_->{data} ne 'keep-alive' } @pings), 0, 'data: keep-alive');
my @late = grep { $_ < 1.5 || $_ > 2.6 } @gaps;
is scalar @late, 0, 'every gap is 2 s (+-0.5 s)'
    or diag 'gaps: ' . join ' ', map { sprintf '%.2f', $_ } @gaps;

done_testing;
