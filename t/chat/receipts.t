# Read receipts: POST /api/receipts stores how far I read a conversation
# (forward only), announces `read` to both users' streams and nobody
# else's, refuses bad input without changing anything; GET /api/receipts
# lists only receipts I am part of.  Members and open mode.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;
use PChat::Chat;

my $ISO = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

for my $server ('pchat_members', undef) {
    my $mode = $server ? 'members' : 'open';
    on_server($server);
    my $p = people(qw(a b c));
    my ($a, $b, $c) = @$p{qw(a b c)};
    my $m1 = make_message($a->{id}, $b->{id}, 'one', %{$a->{as}})->{id};
    my $m2 = make_message($a->{id}, $b->{id}, 'two', %{$a->{as}})->{id};
    my $mc = make_message($c->{id}, $a->{id}, 'c to a', %{$c->{as}})->{id};

    my ($res, $data) = post_json('/api/receipts', {peer => $a->{id}, message => $m1});
    is $res->code, 403, "$mode: anonymous POST is 403";
    ($res) = get_json('/api/receipts');
    is $res->code, 403, "$mode: anonymous GET is 403";

    my $sa = stream_of($a);
    my $sb2 = stream_of($b);
    my $sc = stream_of($c);

    ($res, $data) = post_json('/api/receipts', {peer => $a->{id}, message => $m1},
                              %{$b->{as}});
    is $res->code, 201, "$mode: b reads m1: 201";
    my $doc = $data->{doc};
    is_deeply [sort keys %$doc],
              [qw(createdAt id message peer readAt updatedAt user)], "$mode: the doc's keys";
    is_deeply [@$doc{qw(user peer message)}], [$b->{id}, $a->{id}, $m1],
              "$mode: user, peer, message";
    like $doc->{readAt}, $ISO, "$mode: readAt";
    ok $data->{message}, "$mode: a message";
    for my $s ([$sa, 'the sender'], [$sb2, "the reader's other device"]) {
        my @r = events_of($s->[0], 'read', 10, sub { @{$_[0]} });
        is scalar(@r), 1, "$mode: $s->[1] gets the read event";
        is_deeply [@{$r[0]}{qw(user peer message _has_id)}],
                  [$b->{id}, $a->{id}, $m1, 0], "$mode: its data, no id line";
        is $r[0]{readAt}, $doc->{readAt}, "$mode: readAt as stored";
    }
    is no_events_of($sc, 'read', 1.5), 0, "$mode: c's stream gets nothing";

    ($res, $data) = post_json('/api/receipts', {peer => $a->{id}, message => $m2},
                              %{$b->{as}});
    is $res->code, 200, "$mode: b reads m2: 200";
    is $data->{doc}{message}, $m2, "$mode: moved forward";
    is $data->{doc}{id}, $doc->{id}, "$mode: the same receipt";
    is scalar(events_of($sa, 'read', 10, sub { @{$_[0]} })), 1, "$mode: announced";
    ($res, $data) = post_json('/api/receipts', {peer => $a->{id}, message => $m1},
                              %{$b->{as}});
    is $res->code, 200, "$mode: an older message: 200";
    is $data->{doc}{message}, $m2, "$mode: the receipt does not move back";
    is no_events_of($sa, 'read', 1.5), 0, "$mode: and nothing is announced";

    for my $bad ([{peer => $b->{id}, message => $m1}, 'peer = me'],
                 [{peer => 999999999, message => $m1}, 'an unknown peer'],
                 [{peer => $c->{id}, message => $m1}, 'a message of another conversation'],
                 [{peer => $a->{id}, message => $mc}, "someone else's message"],
                 [{peer => $a->{id}, message => 999999999}, 'no such message'],
                 [{peer => $a->{id}, message => "$m2"}, 'a string'],
                 [{peer => $a->{id}}, 'no message'],
                 [{peer => $a->{id}, message => $m2, user => $c->{id}}, 'an unknown field']) {
        ($res, $data) = post_json('/api/receipts', $bad->[0], %{$b->{as}});
        is $res->code, 400, "$mode: $bad->[1]: 400";
        is $data->{errors}[0]{name}, 'ValidationError', "$mode: $bad->[1]: ValidationError";
    }
    ($res) = post_json('/api/receipts', 'nope', %{$b->{as}});
    is $res->code, 400, "$mode: not JSON: 400";

    ($res, $data) = get_json('/api/receipts', undef, %{$b->{as}});
    is $res->code, 200, "$mode: b lists receipts";
    is $data->{totalDocs}, 1, "$mode: one";
    is $data->{docs}[0]{message}, $m2, "$mode: nothing changed by refused ones";
    ok exists $data->{$_}, "$mode: envelope has $_"
        for qw(limit totalPages page pagingCounter hasPrevPage hasNextPage prevPage nextPage);
    ($res, $data) = get_json('/api/receipts', undef, %{$a->{as}});
    is $data->{totalDocs}, 1, "$mode: a (the peer) sees it";
    ($res, $data) = get_json("/api/receipts?where[peer][equals]=$a->{id}", undef,
                             %{$a->{as}});
    is $data->{totalDocs}, 1, "$mode: where[peer][equals]";
    ($res, $data) = get_json('/api/receipts', undef, %{$c->{as}});
    is $data->{totalDocs}, 0, "$mode: c sees nothing of a and b";
    ($res, $data) = get_json("/api/receipts?where[user][equals]=$b->{id}", undef,
                             %{$c->{as}});
    is $data->{totalDocs}, 0, "$mode: not even asking by where";
    ($res, $data) = get_json("/api/receipts?where[or][0][user][exists]=true", undef,
                             %{$c->{as}});
    is $data->{totalDocs}, 0, "$mode: nor with an or";
    ($res) = get_json('/api/receipts?where[nope][equals]=1', undef, %{$c->{as}});
    is $res->code, 400, "$mode: an unknown field in where: 400";
}

done_testing;
