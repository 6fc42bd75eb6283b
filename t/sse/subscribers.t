# Many subscribers; the stats endpoint; disconnects release everything;
# the node's subscriber limit answers 503.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use IO::Select ();
use PChat::Test;
use PChat::SSE;

my ($a, $b) = (make_user(), make_user());
my $tag = uniq('many');
# prefork needs a process per stream: fewer there
my $n = ($ENV{PCHAT_MPM} // '') eq 'prefork' ? 40 : 200;

sub subscribers {
    my ($res, $data) = get_json('/api/messages/sse/stats');
    return $data->{subscribers};
}

# Streams of earlier test files may still be winding down: wait until the
# count holds still.
sub settled {
    my $last = subscribers();
    for (1 .. 20) {
        select undef, undef, undef, 0.5;
        my $now = subscribers();
        return $now if $now == $last;
        $last = $now;
    }
    return $last;
}
my $before = settled();

my @subs = map { PChat::SSE->open("/api/messages/sse?where[content][like]=$tag") } 1 .. $n;
is scalar(grep { $_->status == 200 } @subs), $n, "$n streams open";
$_->next_event(5), $_->next_event(5) for @subs;
is subscribers(), $before + $n, 'stats count them';

make_message($a, $b, "$tag hello");
my $got = 0;
for my $s (@subs) {
    my $ev = $s->next_event(10);
    $got++ if $ev && ($ev->{event} // '') eq 'message'
              && $ev->{data} =~ /\Q$tag hello\E/;
}
is $got, $n, "all $n subscribers received the message";

$_->close for @subs;
my $after;
for (1 .. 30) {
    $after = subscribers();
    last if $after == $before;
    select undef, undef, undef, 0.2;
}
is $after, $before, 'closed streams are released within a few seconds';

# the limit of a node (pchat_small admits 2 in all)
on_server('pchat_small');
my (@open, $refused);
for (1 .. 3) {
    my $s = PChat::SSE->open('/api/messages/sse');
    if ($s->status == 503) {
        $refused = $s;
        last;
    }
    push @open, $s;
}
ok $refused, 'beyond PayloadChatStreamMaxSubscribers: 503';
cmp_ok scalar @open, '<=', 2, 'after at most two admitted';
like $refused && $refused->header('Content-Type'), qr/json/, 'a JSON error';
ok $refused && $refused->header('Retry-After'), 'with Retry-After';
$_->close for @open;
my $again;
for (1 .. 20) {
    select undef, undef, undef, 0.5;
    next if subscribers() >= 2;
    $again = PChat::SSE->open('/api/messages/sse');
    last;
}
is $again && $again->status, 200, 'admitted again once streams closed';

done_testing;
