# Typing indicators: POST /api/typing reaches the streams of `to` only (no
# id line), is rate-limited per (user, peer), validates its body, needs a
# login; in members and open mode.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);
use PChat::Test;
use PChat::Chat;

for my $server ('pchat_members', undef) {
    my $mode = $server ? 'members' : 'open';
    on_server($server);
    my $p = people(qw(a b c));
    my ($a, $b, $c) = @$p{qw(a b c)};

    my ($res, $data) = post_json('/api/typing', {to => $b->{id}});
    is $res->code, 403, "$mode: anonymous typing is 403";
    is $data->{errors}[0]{message},
       'You are not allowed to perform this action.', "$mode: Payload's 403";

    my $sb = stream_of($b);
    my $sb2 = stream_of($b);
    my $sc = stream_of($c);
    my $sa = stream_of($a);
    my $anon = $server ? undef : stream_of(undef);

    ($res, $data) = post_json('/api/typing', {to => $b->{id}}, %{$a->{as}});
    is $res->code, 200, "$mode: a types to b";
    is_deeply $data, {message => 'ok'}, "$mode: the answer";
    ($res, $data) = post_json('/api/typing', {to => $b->{id}}, %{$a->{as}});
    is $res->code, 429, "$mode: a second one within a second is 429";
    ok $res->header('Retry-After'), "$mode: with Retry-After";
    ok $data->{errors}[0]{message}, "$mode: in Payload's error shape";
    for my $s ($sb, $sb2) {
        my @t = events_of($s, 'typing', 10, sub { @{$_[0]} });
        is scalar(@t), 1, "$mode: b's stream gets the typing event";
        is_deeply $t[0], {from => $a->{id}, to => $b->{id}, expiresIn => 5000,
                          _has_id => 0}, "$mode: its data, no id line";
    }
    is no_events_of($sc, 'typing', 1.5), 0, "$mode: c's stream gets nothing";
    is no_events_of($sa, 'typing', 0.2), 0, "$mode: a's own stream gets nothing";
    is no_events_of($anon, 'typing', 0.2), 0, "$mode: an anonymous stream gets nothing"
        if $anon;

    ($res) = post_json('/api/typing', {to => $c->{id}}, %{$a->{as}});
    is $res->code, 200, "$mode: the limit is per peer";
    sleep 1.2;
    ($res) = post_json('/api/typing', {to => $b->{id}}, %{$a->{as}});
    is $res->code, 200, "$mode: after a second, again";
    is scalar(events_of($sb, 'typing', 10, sub { @{$_[0]} })), 1,
       "$mode: and b gets it";

    for my $bad ([{}, 'no to'], [{to => "$b->{id}"}, 'a string'],
                 [{to => $c->{id}}, 'to me'], [{to => 999999999}, 'unknown'],
                 [{to => $b->{id}, x => 1}, 'an unknown field'],
                 [{to => -1}, 'negative'], [{to => 1.5}, 'a fraction'],
                 [{to => undef}, 'null']) {
        ($res, $data) = post_json('/api/typing', $bad->[0], %{$c->{as}});
        is $res->code, 400, "$mode: $bad->[1]: 400";
        is $data->{errors}[0]{name}, 'ValidationError',
           "$mode: $bad->[1]: ValidationError";
    }
    ($res) = post_json('/api/typing', '[1]', %{$c->{as}});
    is $res->code, 400, "$mode: not an object: 400";
    ($res) = get_json('/api/typing', undef, %{$c->{as}});
    is $res->code, 405, "$mode: GET is 405";
    is no_events_of($sb, 'typing', 1.5), 0, "$mode: refused ones reach nobody";
}

done_testing;
