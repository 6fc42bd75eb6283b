# Presence: a user is online within 2 s of opening a stream with their
# login (event `presence` to the others' streams, GET /api/presence),
# stays online while any of their streams is open, and is offline within
# PCHAT_PRESENCE_OFFLINE_S after the last one closes, with lastSeen.  In
# members mode only logged-in users see it; in open mode anyone.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use PChat::Test;
use PChat::Chat;

# The README's bound for a live node: the close is seen within about a
# second, the row deleted at once (generous for a loaded machine).
my $OFFLINE_S = 5;

sub presence_of {
    my ($id, %as) = @_;
    my ($res, $data) = get_json("/api/presence?users=$id", undef, %as);
    return $data->{docs}[0];
}

for my $server ('pchat_members', undef) {
    my $mode = $server ? 'members' : 'open';
    on_server($server);
    my $p = people(qw(a b));
    my ($a, $b) = @$p{qw(a b)};

    my ($res, $data) = get_json("/api/presence?users=$a->{id}");
    if ($server) {
        is $res->code, 403, "$mode: anonymous presence is 403";
    }
    else {
        is $res->code, 200, "$mode: anyone reads presence";
    }
    ($res, $data) = get_json("/api/presence?users=$a->{id},$b->{id}",
                             undef, %{$b->{as}});
    is $res->code, 200, "$mode: b reads presence";
    is_deeply $data, {docs => [
        {user => $a->{id}, online => JSON::PP::false, lastSeen => undef},
        {user => $b->{id}, online => JSON::PP::false, lastSeen => undef}],
        totalDocs => 2}, "$mode: never seen: offline, lastSeen null";

    my $watch = stream_of($b);
    my $anon = $server ? undef : stream_of(undef);
    my $t0 = time;
    my $sa = stream_of($a);
    my @on = events_of($watch, 'presence', 10,
                       sub { grep { $_->{user} == $a->{id} } @{$_[0]} });
    my ($ev) = grep { $_->{user} == $a->{id} } @on;
    ok $ev && $ev->{online}, "$mode: b's stream hears a go online";
    cmp_ok time - $t0, '<', 2, "$mode: within 2 s" if $ev;
    ok $ev && !$ev->{_has_id}, "$mode: a presence frame has no id line";
    ok presence_of($a->{id}, %{$b->{as}})->{online},
       "$mode: GET /api/presence: a online";
    if ($anon) {
        my @seen = events_of($anon, 'presence', 5,
                             sub { grep { $_->{user} == $a->{id} } @{$_[0]} });
        ok scalar(grep { $_->{user} == $a->{id} } @seen),
           "$mode: an anonymous stream hears it too";
    }

    # a second device: closing one stream keeps a online
    my $sa2 = stream_of($a);
    $sa->close;
    sleep 3;
    ok presence_of($a->{id}, %{$b->{as}})->{online},
       "$mode: a stays online while another stream is open";
    is scalar(grep { $_->{user} == $a->{id} && !$_->{online} }
              events_of($watch, 'presence', 0.5)), 0,
       "$mode: no offline event meanwhile";

    $t0 = time;
    $sa2->close;
    my @off = events_of($watch, 'presence', $OFFLINE_S + 5, sub {
        grep { $_->{user} == $a->{id} && !$_->{online} } @{$_[0]} });
    ($ev) = grep { $_->{user} == $a->{id} && !$_->{online} } @off;
    ok $ev, "$mode: b's stream hears a go offline";
    cmp_ok time - $t0, '<', $OFFLINE_S, "$mode: within ${OFFLINE_S} s" if $ev;
    like $ev ? $ev->{lastSeen} : '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
         "$mode: with lastSeen";
    my $doc = presence_of($a->{id}, %{$b->{as}});
    ok !$doc->{online}, "$mode: GET: a offline";
    is $doc->{lastSeen}, $ev ? $ev->{lastSeen} : 'x', "$mode: GET: the same lastSeen";

    # without users: those online now
    ($res, $data) = get_json('/api/presence', undef, %{$a->{as}});
    is $res->code, 200, "$mode: the list of users online";
    ok scalar(grep { $_->{user} == $b->{id} && $_->{online} } @{$data->{docs}}),
       "$mode: b (streaming) is in it";
    ok !scalar(grep { $_->{user} == $a->{id} } @{$data->{docs}}),
       "$mode: a (gone) is not";

    for my $bad ('users=abc', 'users=1,,x', 'users=-1', 'users=',
                 'users[a]=1', 'users=' . join(',', 1 .. 501)) {
        ($res, $data) = get_json("/api/presence?$bad", undef, %{$a->{as}});
        is $res->code, 400, "$mode: ?" . substr($bad, 0, 20) . ": 400";
        ok $data->{errors}[0]{message}, "$mode: in Payload's error shape";
    }
    ($res) = post_json('/api/presence', {}, %{$a->{as}});
    is $res->code, 405, "$mode: POST is 405";
}

done_testing;
