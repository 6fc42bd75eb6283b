# Filters, updates and deletes reach (only) the right subscribers.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use PChat::Test;
use PChat::SSE;

my ($x, $y, $z) = (make_user(), make_user(), make_user());
my $tag = uniq('chg');
my $mine = PChat::SSE->open("/api/messages/sse?where[content][like]=$tag"
    . "&where[or][0][sender][equals]=$x&where[or][1][receiver][equals]=$x");
my $all = PChat::SSE->open("/api/messages/sse?where[content][like]=$tag");
$_->next_event(5), $_->next_event(5) for $mine, $all;

sub next_change {
    my ($s) = @_;
    while (my $ev = $s->next_event(5)) {
        next unless ($ev->{event} // '') =~ /^(message|delete)$/;
        return [map { "$ev->{event}:$_->{id}:" . ($_->{content} // '') }
                PChat::SSE::docs_of($ev->{event}, $ev)];
    }
    return [];
}

my $yz = make_message($y, $z, "$tag y to z");
is_deeply next_change($all), ["message:$yz->{id}:$tag y to z"],
          'the unfiltered stream sees y to z';
my $xy = make_message($x, $y, "$tag x to y");
is_deeply next_change($mine), ["message:$xy->{id}:$tag x to y"],
          'x sees its message, not y to z';
is_deeply next_change($all), ["message:$xy->{id}:$tag x to y"], 'so does all';

my ($res) = patch_json("/api/messages/$xy->{id}", {content => "$tag edited"});
is $res->code, 200, 'updated';
is_deeply next_change($mine), ["message:$xy->{id}:$tag edited"],
          'the update arrives as a message event with the new doc';
next_change($all);

($res) = delete_json("/api/messages/$xy->{id}");
is $res->code, 200, 'deleted';
is_deeply next_change($mine), ["delete:$xy->{id}:"], 'the delete arrives';
is_deeply next_change($all), ["delete:$xy->{id}:"], 'everywhere';

($res) = delete_json("/api/messages/$yz->{id}");
is_deeply next_change($all), ["delete:$yz->{id}:"], 'y to z deleted';
my $ev = $mine->next_event(2);
ok !$ev || ($ev->{event} // '') eq 'ping', 'x hears nothing of it';

# a message deleted right after it was made: the subscriber may see it
# first or only its delete (a tick reads the latest state), but always
# ends with the delete
my $gone = make_message($x, $z, "$tag short-lived");
delete_json("/api/messages/$gone->{id}");
my $change = next_change($mine);
$change = next_change($mine) if $change->[0] =~ /^message:$gone->{id}:/;
is_deeply $change, ["delete:$gone->{id}:"], 'a short-lived message ends deleted';

done_testing;
