# Concurrent writers in several processes while subscribers stream:
# nothing skipped, nothing doubled, one order for everyone.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use PChat::Test;
use PChat::SSE;
use Apache::TestRequest ();

my ($a, $b) = (make_user(), make_user());
my $tag = uniq('wr');
my ($writers, $each) = (4, 50);
my @subs = map { PChat::SSE->open("/api/messages/sse?where[content][like]=$tag") } 1 .. 3;
$_->next_event(5), $_->next_event(5) for @subs;

my @pids;
for my $w (1 .. $writers) {
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        Apache::TestRequest::user_agent(reset => 1, keep_alive => 1);
        make_message($a, $b, "$tag $w-$_") for 1 .. $each;
        exit 0;
    }
    push @pids, $pid;
}
waitpid $_, 0 for @pids;
my $total = $writers * $each;

my @orders;
for my $s (@subs) {
    my @ids;
    my @frames;
    # (returns as soon as all arrived; the bound is for a loaded machine
    # running the sanitizer build)
    $s->collect(60, sub {
        @frames = grep { ($_->{event} // '') eq 'message' } @{$_[0]};
        @ids = map { $_->{id} } PChat::SSE::docs_of('message', @frames);
        @ids >= $total;
    });
    my %seen;
    $seen{$_}++ for @ids;
    is scalar(keys %seen), $total, "subscriber got all $total"
        or diag missing(\%seen, \@frames);
    is scalar(@ids), $total, 'each exactly once';
    my @fid = map { $_->{id} } @frames;
    ok !(grep { $fid[$_] <= $fid[$_ - 1] } 1 .. $#fid), 'frame ids increase';
    push @orders, join ',', @ids;
}
# what a subscriber missed: each message's seq, and the frames around it
sub missing {
    my ($seen, $frames) = @_;
    my @rows = db_query("SELECT id, seq FROM messages WHERE content LIKE "
                        . "'$tag %' ORDER BY seq");
    my @lost = map { "id $_->[0] seq $_->[1]" } grep { !$seen->{$_->[0]} }
               map { [split /\|/] } @rows;
    return "missing: @lost; frame ids: "
           . join(',', map { $_->{id} // '-' } @$frames);
}

is scalar(do { my %u; @u{@orders} = (); keys %u }), 1,
   'every subscriber saw the same order';

my ($res, $data) = get_json("/api/messages?where[content][like]=$tag&pagination=false&sort=id&depth=0");
is $data->{totalDocs}, $total, 'all stored';

done_testing;
