# PostgreSQL restarts under a running Apache: every pooled connection and
# the stream hub's listening connection break at once.  The module must
# find out by itself: at most a request or two per child fail while it
# does, then everything works again, and a stream that stayed open gets
# every message that was acknowledged, once.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use Time::HiRes qw(sleep time);
use PChat::Test;
use PChat::SSE;

plan skip_all => 'a PostgreSQL server restart (the sqlite pass has no server)'
    unless $ENV{PCHAT_DB_DRIVER} eq 'pgsql';

my $json = JSON::PP->new->utf8;
my ($alice, $bob) = (make_user(), make_user());
my $tag = uniq('restart');
my $s = PChat::SSE->open("/api/messages/sse?where[content][like]=$tag");
is $s->status, 200, 'subscribed';
$s->next_event(5);

my @acked = (make_message($alice, $bob, "$tag before")->{id});
system('sh', "$ENV{PCHAT_TOP}/scripts/pg.sh", 'restart',
       $ENV{PCHAT_PG_DIR}) == 0 or BAIL_OUT('PostgreSQL did not restart');

my @codes;
for my $i (1 .. 12) {
    my ($res, $data) = post_json('/api/messages?depth=0',
                                 {sender => $alice, receiver => $bob,
                                  content => "$tag after $i"});
    push @codes, $res->code;
    push @acked, $data->{doc}{id} if $res->code == 201;
}
my $failed = grep { $_ != 201 } @codes;
cmp_ok $failed, '<=', 4, "at most a few POSTs fail while broken connections"
    . " are found (codes: @codes)";
is_deeply [@codes[-6 .. -1]], [(201) x 6], 'then every POST succeeds';
my ($res, $data) = get_json("/api/messages?where[content][like]=$tag&limit=50");
is $res->code, 200, 'finds work again';
is $data->{totalDocs}, scalar(@acked), 'every acknowledged message is stored';

my %seen;
$s->collect(10, sub {
    %seen = ();
    $seen{$_->{id}}++ for map { @{$json->decode($_->{data})} }
                          grep { ($_->{event} // '') eq 'message' } @{$_[0]};
    !grep { !$seen{$_} } @acked;
});
is_deeply [sort { $a <=> $b } keys %seen], [sort { $a <=> $b } @acked],
          'the open stream got every acknowledged message';
ok !(grep { $_ > 1 } values %seen), 'each once';

done_testing;
