# PostgreSQL restarts under a running Apache: every pooled connection of
# every child and server, and the stream hubs' listening connections, break
# at once.  The module must find out by itself, before a request meets a
# broken connection: every request after the restart succeeds, on every
# server, and a stream that stayed open gets every message that was
# acknowledged, once.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use Time::HiRes qw(sleep time);
use PChat::Test;
use PChat::SSE;
use LWP::UserAgent;
use Apache::TestRequest ();

plan skip_all => 'a PostgreSQL server restart (the sqlite pass has no server)'
    unless $ENV{PCHAT_DB_DRIVER} eq 'pgsql';

my ($alice, $bob) = (make_user(), make_user());
my $tag = uniq('restart');
my $s = PChat::SSE->watch($tag);

# 8 finds on each server, each on a new connection so that they spread
# over the children: the status codes, per server
my $ua = LWP::UserAgent->new(keep_alive => 0, timeout => 10);
my @servers = qw(main pchat_fast pchat_small pchat_limits);
sub finds_everywhere {
    my %codes;
    for my $server (@servers) {
        on_server($server eq 'main' ? undef : $server);
        my $url = Apache::TestRequest::resolve_url('/api/messages?limit=1');
        $codes{$server} = join ' ', map { $ua->get($url)->code } 1 .. 8;
    }
    on_server(undef);
    return \%codes;
}
my $all_found = {map { $_ => join ' ', (200) x 8 } @servers};
is_deeply finds_everywhere(), $all_found,
          'finds on every server fill the connection pools';

my @acked = (make_message($alice, $bob, "$tag before")->{id});
system('sh', "$ENV{PCHAT_TOP}/scripts/pg.sh", 'restart',
       $ENV{PCHAT_PG_DIR}) == 0 or BAIL_OUT('PostgreSQL did not restart');

is_deeply finds_everywhere(), $all_found,
          'every find on every server succeeds after the restart';

my @codes;
for my $i (1 .. 12) {
    my ($res, $data) = post_json('/api/messages?depth=0',
                                 {sender => $alice, receiver => $bob,
                                  content => "$tag after $i"});
    push @codes, $res->code;
    push @acked, $data->{doc}{id} if $res->code == 201;
}
is "@codes", join(' ', (201) x 12), 'and so does every POST';
my ($res, $data) = get_json("/api/messages?where[content][like]=$tag&limit=50");
is $res->code, 200, 'finds work again';
is $data->{totalDocs}, scalar(@acked), 'every acknowledged message is stored';

my %seen;
$s->collect(10, sub {
    %seen = ();
    $seen{$_->{id}}++ for PChat::SSE::docs_of('message', @{$_[0]});
    !grep { !$seen{$_} } @acked;
});
is_deeply [sort { $a <=> $b } keys %seen], [sort { $a <=> $b } @acked],
          'the open stream got every acknowledged message';
ok !(grep { $_ > 1 } values %seen), 'each once';

done_testing;
