# Presence, typing and read receipts across two nodes sharing the
# database: events written on one node reach streams on the other, and a
# user whose only stream was on a node that dies (SIGKILL) goes offline
# within the README's bound (the heartbeat's TTL, 10 s, plus a sweep).
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use PChat::Test;
use PChat::SSE;
use PChat::Node;
use PChat::Chat;

my $DEAD_NODE_S = 15;   # the README's bound for a node that dies

# Node B: open mode (PChat::Node's start-up check lists users
# anonymously), with the members host's secret, so the tokens of users made
# there log in on both.
my $node = PChat::Node->start(config =>
    'PayloadChatSecret test-secret-0123456789abcdef0123456789');
on_server('pchat_members');
my $p = people(qw(a b));
my ($a, $b) = @$p{qw(a b)};

sub stream_on_b {
    my ($who) = @_;
    my $s = PChat::SSE->open_at($node->hostport, '/api/messages/sse?where'
                                . '[content][like]=' . uniq('none'),
                                %{$who->{as}});
    is $s->status, 200, 'a stream on node B';
    $s->next_event(5);
    return $s;
}

my $sb = stream_on_b($b);
sleep 0.5;
my $t0 = time;
my $sa = stream_of($a);
my @on = events_of($sb, 'presence', 10,
                   sub { grep { $_->{user} == $a->{id} && $_->{online} } @{$_[0]} });
ok scalar(grep { $_->{user} == $a->{id} && $_->{online} } @on),
   'a opens a stream on node A: b hears it on node B';
cmp_ok time - $t0, '<', 2.5, 'within 2 s (and a poll)';

my ($res) = post_json('/api/typing', {to => $b->{id}}, %{$a->{as}});
is $res->code, 200, 'a types on node A';
my @t = events_of($sb, 'typing', 10, sub { @{$_[0]} });
is scalar(@t) && $t[0]{from}, $a->{id}, 'b gets it on node B';

my $m = make_message($a->{id}, $b->{id}, 'across', %{$a->{as}});
my $ua = LWP::UserAgent->new(timeout => 10);
my $req = HTTP::Request->new(POST => $node->url('/api/receipts'));
$req->header('Content-Type' => 'application/json', %{$b->{as}});
$req->content(qq({"peer":$a->{id},"message":$m->{id}}));
is $ua->request($req)->code, 201, 'b reads it on node B';
my @r = events_of($sa, 'read', 10, sub { @{$_[0]} });
is scalar(@r) && $r[0]{message}, $m->{id}, 'a sees "Seen" on node A';

# a's only stream moves to node B, which dies
my $sa_b = stream_on_b($a);
$sa->close;
sleep 3;
my ($r2, $data) = get_json("/api/presence?users=$a->{id}", undef, %{$b->{as}});
ok $data->{docs}[0]{online}, 'a is online through node B';
my $watch = stream_of($b);
$t0 = time;
$node->kill_hard;
my @off = events_of($watch, 'presence', $DEAD_NODE_S + 10, sub {
    grep { $_->{user} == $a->{id} && !$_->{online} } @{$_[0]} });
ok scalar(grep { $_->{user} == $a->{id} && !$_->{online} } @off),
   'node B died: b hears a go offline on node A';
cmp_ok time - $t0, '<', $DEAD_NODE_S, "within $DEAD_NODE_S s";
($r2, $data) = get_json("/api/presence?users=$a->{id}", undef, %{$b->{as}});
ok !$data->{docs}[0]{online}, 'GET /api/presence: offline';
ok $data->{docs}[0]{lastSeen}, 'with lastSeen';
is_deeply [$node->crashes], [], 'no crash on node B before the kill';

done_testing;
