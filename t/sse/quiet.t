# The quiet server: one subscriber and no other traffic.  A message
# arrives within the poll interval + 250 ms, and keep-alive frames come on
# time for a minute (the event MPM of httpd 2.4.71 fires no timers on an
# idle server unless something wakes it).
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use PChat::Test;
use PChat::SSE;

on_server('pchat_fast');    # keep-alive every 5 s
my ($a, $b) = (make_user(), make_user());
my $tag = uniq('quiet');
my $s = PChat::SSE->open("/api/messages/sse?where[content][like]=$tag");
$s->next_event(5);              # retry
$s->next_event(5);              # bare id
sleep 2;                        # let the server go idle

my $sent = time;
make_message($a, $b, "$tag ping");
my $ev = $s->next_event(3);
my $lag = time - $sent;
is $ev->{event}, 'message', 'the message arrives on an idle server';
cmp_ok $lag, '<', 1.25, sprintf('within 1.25 s (took %.3f s)', $lag);

# a minute of silence: keep-alives every 5 s, none missing, none late
my $start = time;
my @pings = grep { ($_->{event} // '') eq 'ping' } $s->collect(62);
my @gaps;
my $prev = shift(@pings)->{at};   # the schedule started with the stream
for my $p (@pings) {
    push @gaps, $p->{at} - $prev;
    $prev = $p->{at};
}
cmp_ok scalar @pings, '>=', 10, scalar(@pings) + 1 . ' keep-alives in a minute';
is((grep { $_->{data} ne 'keep-alive' } @pings), 0, 'data: keep-alive');
my @late = grep { $_ < 4.5 || $_ > 5.6 } @gaps;
is scalar @late, 0, 'every gap is 5 s (+-0.5 s)'
    or diag 'gaps: ' . join ' ', map { sprintf '%.2f', $_ } @gaps;

done_testing;
