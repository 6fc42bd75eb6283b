# A writer that takes its change number first and commits last: another
# client (psql or the sqlite3 shell, following the module's write protocol
# from the README) inserts a message, then sleeps two seconds before its
# commit while the API posts three more.  A cursor built on a plain
# sequence would deliver the three and skip the slow one for good; here
# the API's writers queue behind it, and the subscriber gets all four,
# once each, slow one first.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use Time::HiRes qw(sleep time);
use POSIX ();
use PChat::Test;
use PChat::SSE;

my ($a, $b) = (make_user(), make_user());
my $tag = uniq('late');
my $s = PChat::SSE->watch($tag);

my $now = int(time * 1000);
my $insert = "INSERT INTO messages (sender, receiver, content, ts, created_at,"
    . " updated_at, seq) VALUES ($a, $b, '$tag slow', $now, $now, $now,"
    . " (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages));";
my @slow = $ENV{PCHAT_DB_DRIVER} eq 'pgsql'
    ? ('sh', "$ENV{PCHAT_TOP}/scripts/pg.sh", 'psql', $ENV{PCHAT_PG_DIR},
       $ENV{PCHAT_PG_PORT}, '-qAt', '-v', 'ON_ERROR_STOP=1', '-c',
       "BEGIN; SELECT pg_advisory_xact_lock(7243279); $insert"
       . " SELECT pg_sleep(2); COMMIT;")
    : ('sqlite3', '-cmd', '.timeout 10000', $ENV{PCHAT_DB_PARAMS},
       "BEGIN IMMEDIATE; $insert", '.shell sleep 2', 'COMMIT;');
my $pid = fork() // die "fork: $!";
if (!$pid) {
    open STDOUT, '>', '/dev/null';
    exec @slow or POSIX::_exit(127);
}
sleep 0.5;   # the slow writer holds its number now

my $t0 = time;
my @posted = map { make_message($a, $b, "$tag fast $_")->{id} } 1 .. 3;
my $waited = time - $t0;
waitpid $pid, 0;
is $?, 0, 'the slow writer committed';
cmp_ok $waited, '>', 1, 'the API writers queued behind it';

my (@ids, @contents, @frame_ids);
$s->collect(10, sub {
    my @m = grep { ($_->{event} // '') eq 'message' } @{$_[0]};
    @frame_ids = map { $_->{id} } @m;
    my @docs = PChat::SSE::docs_of('message', @m);
    @ids = map { $_->{id} } @docs;
    @contents = map { $_->{content} } @docs;
    @docs >= 4;
});
is scalar(@ids), 4, 'four messages, each once';
is $contents[0], "$tag slow", 'the slow one first: it holds the smaller number';
is_deeply [@ids[1 .. 3]], \@posted, 'then the three, in order';
ok !(grep { $frame_ids[$_] <= $frame_ids[$_ - 1] } 1 .. $#frame_ids),
   'event ids increase';

done_testing;
