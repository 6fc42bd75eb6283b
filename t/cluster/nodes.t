# Two Apache nodes sharing one database (PostgreSQL in the pgsql run,
# the sqlite file in the sqlite run): writers on both, subscribers on
# both; every subscriber receives every message exactly once, in one
# order, whichever node it was posted to.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use LWP::UserAgent ();
use POSIX ();
use Time::HiRes qw(time);
use PChat::Test;
use PChat::SSE;
use PChat::Node;

my $json = JSON::PP->new->utf8;
my $node_b = PChat::Node->start;
my $node_a = hostport();
ok $node_b->port, 'a second node runs on port ' . $node_b->port;

my ($alice, $bob) = (make_user(), make_user());
my $tag = uniq('cluster');
my $filter = "/api/messages/sse?where[content][like]=$tag";

# A user made on node B is seen by node A at once: one database.
my $ua = LWP::UserAgent->new(timeout => 10, keep_alive => 1);
my $res = $ua->post($node_b->url('/api/users'),
                    'Content-Type' => 'application/json',
                    Content => $json->encode({email => uniq('b') . '@example.com',
                                              password => 'password123'}));
is $res->code, 201, 'node B creates a user';
my $carol = $json->decode($res->content)->{doc}{id};
my ($r2, $d2) = get_json("/api/users/$carol");
is $r2->code, 200, 'node A reads the user node B created';

my @subs = ((map { PChat::SSE->open_at($node_a, $filter) } 1 .. 2),
            (map { PChat::SSE->open_at($node_b->hostport, $filter) } 1 .. 2));
is scalar(grep { $_->status == 200 } @subs), 4, 'two subscribers on each node';
$_->next_event(5) for @subs;   # the retry hint

# Message ids per subscriber, read from every subscriber in turn so that
# none of them is left unread long enough to count as a slow reader.
my @got = map { [] } @subs;
my @frame_ids = map { [] } @subs;
sub drain {
    my ($want, $timeout) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        for my $i (0 .. $#subs) {
            while (my $ev = $subs[$i]->next_event(0.01)) {
                next unless ($ev->{event} // '') eq 'message';
                push @{$frame_ids[$i]}, $ev->{id};
                push @{$got[$i]}, map { $_->{id} } PChat::SSE::docs_of('message', $ev);
            }
        }
        return 1 unless grep { @$_ < $want } @got;
    }
    return 0;
}

# One message posted on B reaches a subscriber on A within the poll
# interval (1 s) plus slack.
my $t0 = time;
$res = $ua->post($node_b->url('/api/messages?depth=0'),
                 'Content-Type' => 'application/json',
                 Content => $json->encode({sender => $alice, receiver => $bob,
                                           content => "$tag first"}));
is $res->code, 201, 'posted on node B';
ok drain(1, 5), 'every subscriber got it';
cmp_ok time - $t0, '<', 2.5, 'within the poll interval plus 1.5 s';

# Concurrent writers: two processes on each node.
my ($per_node, $each) = (2, 50);
my @pids;
for my $target ($node_a, $node_b->hostport) {
    for my $w (1 .. $per_node) {
        my $pid = fork() // die "fork: $!";
        if (!$pid) {
            my $wua = LWP::UserAgent->new(timeout => 30, keep_alive => 1);
            my $bad = 0;
            for my $i (1 .. $each) {
                my $r = $wua->post("http://$target/api/messages?depth=0",
                    'Content-Type' => 'application/json',
                    Content => $json->encode({sender => $alice,
                                              receiver => $bob,
                                              content => "$tag $target-$w-$i"}));
                $bad++ unless $r->code == 201;
            }
            POSIX::_exit($bad ? 1 : 0);
        }
        push @pids, $pid;
    }
}
my $total = 1 + 2 * $per_node * $each;
drain($total, 60);
my $failed = 0;
for (@pids) {
    waitpid $_, 0;
    $failed++ if $?;
}
is $failed, 0, 'every POST on both nodes answered 201';

for my $i (0 .. $#subs) {
    my %seen;
    $seen{$_}++ for @{$got[$i]};
    my $where = $i < 2 ? 'node A' : 'node B';
    is scalar(keys %seen), $total, "subscriber $i on $where got all $total";
    is scalar(@{$got[$i]}), $total, "subscriber $i: each exactly once";
    my @fid = @{$frame_ids[$i]};
    ok !(grep { $fid[$_] <= $fid[$_ - 1] } 1 .. $#fid),
       "subscriber $i: event ids increase";
}
my @orders = map { join ',', @$_ } @got;
is scalar(do { my %u; @u{@orders} = (); keys %u }), 1,
   'subscribers on both nodes saw one order';

my ($r3, $d3) = get_json("/api/messages?where[content][like]=$tag&limit=1&depth=0");
is $d3->{totalDocs}, $total, 'all stored once';

$_->close for @subs;
$node_b->stop;
is_deeply [$node_b->crashes], [], 'node B logged no crash';

done_testing;
