# totalDocs and /count stay exact while the module remembers counts of
# messages between changes: every kind of change, through the API or by a
# writer outside it that follows the README's protocol, shows at once, on
# every server of the database, for every filter.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

my ($alice, $bob) = (make_user(), make_user());
my $tag = uniq('totals');
my @servers = (undef, 'pchat_fast');

# totalDocs of find and of count for content like $tag, on each server,
# each asked twice (the second answer may come from memory)
sub totals {
    my $filter = shift // '';
    my @seen;
    for my $server (@servers) {
        on_server($server);
        for (1 .. 2) {
            my (undef, $find) = get_json("/api/messages?limit=1&depth=0"
                . "&where[content][like]=$tag$filter");
            my (undef, $count) = get_json("/api/messages/count"
                . "?where[content][like]=$tag$filter");
            push @seen, $find->{totalDocs}, $count->{totalDocs};
        }
    }
    on_server(undef);
    my %distinct = map { $_ => 1 } @seen;
    return keys(%distinct) == 1 ? $seen[0] : "disagree: @seen";
}

is totals(), 0, 'none yet';
my @ids = map { make_message($alice, $bob, "$tag m$_")->{id} } 1 .. 3;
is totals(), 3, 'three created';
is totals('&where[sender][equals]=' . $bob), 0, 'another filter: none';

my ($res) = patch_json("/api/messages/$ids[0]", {content => 'moved away'});
is $res->code, 200, 'edited out of the filter';
is totals(), 2, 'an edit that leaves the filter counts';

($res) = delete_json("/api/messages/$ids[1]");
is $res->code, 200, 'deleted one';
is totals(), 1, 'a delete counts';

my $now = int(time * 1000);
db_exec("INSERT INTO messages (sender, receiver, content, ts, created_at,"
        . " updated_at, seq) VALUES ($alice, $bob, '$tag outside', $now,"
        . " $now, $now, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages))");
is totals(), 2, "an outside writer's insert counts";

db_exec("UPDATE messages SET deleted = 1, seq = (SELECT COALESCE(MAX(seq),"
        . " 0) + 1 FROM messages) WHERE content = '$tag outside'");
is totals(), 1, "and its delete";

done_testing;
