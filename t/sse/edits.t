# Several processes edit the same messages at once while a stream
# watches: every PATCH succeeds, each edit takes its own change number
# (frame ids only grow), and the stream ends on each message's stored
# version.  On PostgreSQL an edit by id is one statement whose change
# number takes the cluster-wide lock while rows are contended.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use PChat::Test;
use PChat::SSE;

my ($editors, $rounds) = (4, 15);
my ($alice, $bob) = (make_user(), make_user());
my $tag = uniq('edits');
my $s = PChat::SSE->watch($tag);
my @msgs = map { make_message($alice, $bob, "$tag start $_")->{id} } 1 .. 3;

my @codes = map { split ' ' } in_children($editors, sub {
    my $e = shift;
    my @codes;
    for my $i (1 .. $rounds) {
        for my $id (@msgs) {
            my ($res) = patch_json("/api/messages/$id?depth=0",
                                   {content => "$tag $e-$i"});
            push @codes, $res->code;
        }
    }
    return "@codes";
});
is scalar(grep { $_ == 200 } @codes), $editors * $rounds * @msgs,
   'every PATCH answered 200' or diag "@codes";

my %stored = map {
    my (undef, $doc) = get_json("/api/messages/$_?depth=0");
    ($_ => $doc->{content});
} @msgs;

my (%last, @frame_ids);
# (returns once every version arrived; the bound is for a loaded machine)
$s->collect(60, sub {
    my @m = grep { ($_->{event} // '') eq 'message' } @{$_[0]};
    @frame_ids = map { $_->{id} } @m;
    %last = ();
    $last{$_->{id}} = $_->{content} for PChat::SSE::docs_of('message', @m);
    !grep { ($last{$_} // '') ne $stored{$_} } @msgs;
});
is_deeply \%last, \%stored, 'the stream ends on every stored version';
my @sorted = sort { $a <=> $b } @frame_ids;
my %distinct = map { $_ => 1 } @frame_ids;
ok @frame_ids && "@frame_ids" eq "@sorted"
   && keys(%distinct) == @frame_ids, 'frame ids only grow';

done_testing;
