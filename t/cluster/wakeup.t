# How soon a message posted on one node reaches a stream on another.
# Node B polls the database rarely here.  On PostgreSQL its hub LISTENs, so
# each message arrives well before B's next poll; when the listening
# connection is killed, the hub reconnects by itself and still misses
# nothing.  sqlite cannot notify: there the message comes with the poll.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use Time::HiRes qw(sleep time);
use PChat::Test;
use PChat::SSE;
use PChat::Node;

my $pg = $ENV{PCHAT_DB_DRIVER} eq 'pgsql';
my $poll_s = $pg ? 30 : 1.5;
my $node = PChat::Node->start(config => 'PayloadChatStreamPollInterval '
                                        . $poll_s * 1000);
my ($a, $b) = (make_user(), make_user());
my $tag = uniq('wake');
my $s = PChat::SSE->open_at($node->hostport,
                            "/api/messages/sse?where[content][like]=$tag");
is $s->status, 200, 'subscribed on node B';
$s->next_event(5);
sleep 0.5;   # B's hub has met its subscriber and probed once

# Posts one message on node A; returns the seconds until B's stream has it.
sub delivery_time {
    my ($content, $timeout) = @_;
    my $id = make_message($a, $b, $content)->{id};
    my $t0 = time;
    my @got;
    $s->collect($timeout, sub {
        @got = map { $_->{id} } PChat::SSE::docs_of('message', @{$_[0]});
        grep { $_ == $id } @got;
    });
    is_deeply \@got, [$id], "'$content' arrives on node B, once";
    return time - $t0;
}

if ($pg) {
    for my $i (1 .. 3) {
        cmp_ok delivery_time("$tag $i", 5), '<', 1,
               "message $i within a second (B polls every ${poll_s} s)";
        sleep 0.3;
    }
    my ($killed) = db_query("SELECT count(pg_terminate_backend(pid)) FROM"
                            . " pg_stat_activity WHERE query LIKE 'LISTEN %'");
    cmp_ok $killed, '>=', 1, 'the listening connection is killed';
    sleep 0.3;
    cmp_ok delivery_time("$tag after", 5), '<', 3,
           'a message right after: the hub reconnected and looked';
    sleep 0.3;
    cmp_ok delivery_time("$tag again", 5), '<', 1,
           'and notifications flow again';
    ok scalar($node->log_lines(qr/PCH00703/)), 'the lost connection is logged';
}
else {
    for my $i (1 .. 2) {
        cmp_ok delivery_time("$tag $i", $poll_s + 2), '<', $poll_s + 1,
               "message $i by node B's next poll";
    }
}

done_testing;
