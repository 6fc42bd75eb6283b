# Tombstones: a stream that resumes learns of a delete while its tombstone
# is kept (PayloadChatTombstoneRetention: 2 s on pchat_purge, which has a
# database of its own); afterwards the tombstone is purged, all but the
# newest change, so a new message never takes a number a cursor has passed.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time sleep);
use PChat::Test;
use PChat::SSE;

on_server('pchat_purge');
my ($a, $b) = (make_user(), make_user());
my $tag = uniq('purge');
my $filter = "where[content][like]=$tag";

sub docs_of { PChat::SSE::docs_of(@_) }

# The changes after $cursor up to the delete of $last_id: (deleted ids,
# id of the frame that carried $last_id's delete).  Each resume has a
# filter of its own: streams with the same filter and cursor share one
# read, which a child keeps until the next change.
my $resumes = 0;
sub resume_deletes {
    my ($cursor, $last_id) = @_;
    my $own = 'where[and][0][content][like]=' . $tag
            . '&where[and][1][id][not_equals]=' . (900000000 + ++$resumes);
    my $s = PChat::SSE->open("/api/messages/sse?$own&since=$cursor");
    my @ev = $s->collect(10, sub {
        grep { $_->{id} == $last_id } docs_of('delete', @{$_[0]});
    });
    $s->close;
    my ($frame) = grep { grep { $_->{id} == $last_id } docs_of('delete', $_) }
                  @ev;
    return ([map { $_->{id} } docs_of('delete', @ev)], $frame && $frame->{id});
}

my @m = map { make_message($a, $b, "$tag $_") } 1 .. 3;
my $s = PChat::SSE->open("/api/messages/sse?$filter");
my @ev = $s->collect(10, sub {
    grep { $_->{content} eq "$tag 3" } docs_of('message', @{$_[0]});
});
$s->close;
my ($cursor) = map { $_->{id} } grep { ($_->{event} // '') eq 'message' } @ev;
ok $cursor, "the cursor after three messages: $cursor";

is delete_json("/api/messages/$m[0]{id}")->code, 200, 'first deleted';
is delete_json("/api/messages/$m[1]{id}")->code, 200, 'second deleted';
my ($deleted) = resume_deletes($cursor, $m[1]{id});
is_deeply $deleted, [$m[0]{id}, $m[1]{id}],
          'a resume within the retention gets both deletes';

# within a few seconds after the retention, the older tombstone is gone
my ($newest_frame, $waited, $start) = (undef, 0, time);
while (time - $start < 20) {
    sleep 0.5;
    ($deleted, $newest_frame) = resume_deletes($cursor, $m[1]{id});
    last if @$deleted == 1;
}
is_deeply $deleted, [$m[1]{id}],
          sprintf('after it, only the newest delete is left (%.1f s)',
                  time - $start);
ok $newest_frame, "the newest change stays (id $newest_frame)";

# the next message takes a number after it: a cursor there still gets it
my $r = PChat::SSE->open("/api/messages/sse?$filter&since=$newest_frame");
my $m4 = make_message($a, $b, "$tag 4");
@ev = $r->collect(5, sub {
    grep { $_->{id} == $m4->{id} } docs_of('message', @{$_[0]});
});
is_deeply [map { $_->{id} } docs_of('message', @ev)], [$m4->{id}],
          'a message after the purge reaches a stream resumed at the newest change';
cmp_ok((grep { ($_->{event} // '') eq 'message' } @ev)[0]{id}, '>',
       $newest_frame, 'with a higher id');

# REST is untouched: the live messages and only them
my ($res, $data) = get_json("/api/messages?$filter&sort=id&depth=0");
is_deeply [map { $_->{content} } @{$data->{docs}}], ["$tag 3", "$tag 4"],
          'find shows the live messages';
is get_json("/api/messages/$m[0]{id}")->code, 404, 'a purged one is 404';

done_testing;
