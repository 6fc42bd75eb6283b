# A burst of 100 messages arrives complete, in order, exactly once.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use Time::HiRes qw(time);
use PChat::Test;
use PChat::SSE;

my ($a, $b) = (make_user(), make_user());
my $tag = uniq('burst');
my $s = PChat::SSE->open("/api/messages/sse?where[content][like]=$tag");
$s->next_event(5);
$s->next_event(5);

my $t0 = time;
my @sent = map { make_message($a, $b, "$tag $_")->{id} } 1 .. 100;
my $took = time - $t0;
cmp_ok $took, '<', 5, sprintf('100 posted in %.2f s', $took);

my (@got, @ids);
my @events = $s->collect(15, sub {
    @got = PChat::SSE::docs_of('message', @{$_[0]});
    @got >= 100;
});
@ids = map { $_->{id} } grep { ($_->{event} // '') eq 'message' } @events;
is_deeply [map { $_->{id} } @got], \@sent, 'all 100, in order, once each';
is_deeply [map { $_->{content} } @got], [map { "$tag $_" } 1 .. 100],
          'contents in order';
ok !(grep { $ids[$_] <= $ids[$_ - 1] } 1 .. $#ids), 'frame ids increase';

done_testing;
