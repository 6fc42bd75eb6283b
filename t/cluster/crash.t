# Crash safety: a node's Apache processes are all killed with SIGKILL
# while three clients post continuously and a subscriber streams.  After
# a restart, every message whose POST got a 2xx is stored, intact, and a
# subscriber resuming from its last event id receives the rest, each
# message once; the database passes its integrity check.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use LWP::UserAgent ();
use POSIX ();
use Time::HiRes qw(sleep time);
use PChat::Test;
use PChat::SSE;
use PChat::Node;

my $json = JSON::PP->new->utf8->canonical;
my $node = PChat::Node->start;
my ($alice, $bob) = (make_user(), make_user());
my $tag = uniq('crash');
my $dir = "$ENV{PCHAT_TOP}/t/run/crash-$$";
mkdir $dir or die $!;

my $sub = PChat::SSE->open_at($node->hostport,
                              "/api/messages/sse?where[content][like]=$tag");
is $sub->status, 200, 'subscribed';

# Writers: each records the id and content of every acknowledged message.
my @pids;
for my $w (1 .. 3) {
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        my $ua = LWP::UserAgent->new(timeout => 5, keep_alive => 1);
        open my $log, '>', "$dir/acked-$w" or POSIX::_exit(2);
        $log->autoflush(1);
        for my $i (1 .. 100000) {
            my $content = "$tag w$w-$i";
            my $r = $ua->post($node->url('/api/messages?depth=0'),
                              'Content-Type' => 'application/json',
                              Content => $json->encode({sender => $alice,
                                  receiver => $bob, content => $content}));
            last unless $r->is_success;   # the node is gone
            my $doc = eval { $json->decode($r->content)->{doc} };
            print $log "$doc->{id} $content\n" if $doc;
        }
        POSIX::_exit(0);
    }
    push @pids, $pid;
}

# Stream while they write, then cut the power.
my (%got, $last_id, $dups);
my $read = sub {
    my ($s, $timeout) = @_;
    for my $ev ($s->collect($timeout)) {
        next unless ($ev->{event} // '') eq 'message';
        $last_id = $ev->{id};
        for my $doc (PChat::SSE::docs_of('message', $ev)) {
            $dups++ if $got{$doc->{id}}++;
        }
    }
};
$read->($sub, 1.5);
my $killed = $node->kill_hard;
ok $killed >= 2, "killed the parent and its children ($killed processes)";
waitpid $_, 0 for @pids;
$read->($sub, 0.5);
$sub->close;

my %acked;
for my $w (1 .. 3) {
    open my $fh, '<', "$dir/acked-$w" or next;
    while (<$fh>) {
        chomp;
        my ($id, $content) = split / /, $_, 2;
        $acked{$id} = $content;
    }
}
cmp_ok scalar(keys %acked), '>', 20, scalar(keys %acked)
    . ' messages acknowledged before the kill';

$node->launch;
pass 'the node restarts on the same database';

# every acknowledged message is stored, intact
my ($res, $data) = get_json("/api/messages?where[content][like]=$tag"
                            . '&pagination=false&depth=0');
my %stored = map { $_->{id} => $_->{content} } @{$data->{docs}};
my @missing = grep { !exists $stored{$_} } keys %acked;
is scalar(@missing), 0, 'no acknowledged message is lost'
    or diag "missing: @missing[0 .. ($#missing < 9 ? $#missing : 9)]";
my @changed = grep { exists $stored{$_} && $stored{$_} ne $acked{$_} } keys %acked;
is scalar(@changed), 0, 'each is intact';

# a subscriber resuming after its last event gets the rest, once each
my $resumed = PChat::SSE->open_at($node->hostport,
    "/api/messages/sse?where[content][like]=$tag",
    defined $last_id ? ('Last-Event-ID' => $last_id) : ());
is $resumed->status, 200, 'resumed on the restarted node';
$read->($resumed, 3);
$resumed->close;
is_deeply [sort { $a <=> $b } keys %got], [sort { $a <=> $b } keys %stored],
    'the subscriber got every stored message across the crash';
is $dups // 0, 0, 'and none twice';

my @check = $ENV{PCHAT_DB_DRIVER} eq 'pgsql'
    ? db_query('CREATE EXTENSION IF NOT EXISTS amcheck; '
               . "SELECT bool_and(bt_index_check(c.oid)::text = '') FROM "
               . "pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
               . "WHERE i.indrelid = 'messages'::regclass")
    : db_query('PRAGMA integrity_check');
is $check[-1], $ENV{PCHAT_DB_DRIVER} eq 'pgsql' ? 't' : 'ok',
   'the database passes its integrity check';

$node->stop;
is_deeply [grep { !/exit signal Killed/ } $node->crashes], [],
          'no crash of its own after the restart';
done_testing;
