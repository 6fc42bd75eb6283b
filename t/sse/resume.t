# Resume with Last-Event-ID or ?since= delivers exactly the missed
# messages; so does a reconnect after a graceful restart.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;
use PChat::SSE;
use Apache::Test ();

my ($a, $b) = (make_user(), make_user());
my $tag = uniq('resume');
my $filter = "where[content][like]=$tag";

sub messages_of { PChat::SSE::docs_of('message', @_) }

sub until_content {
    my ($s, $want) = @_;
    my @ev = $s->collect(10, sub {
        grep { $_->{content} eq $want } messages_of(@{$_[0]});
    });
    return @ev;
}

my $s = PChat::SSE->open("/api/messages/sse?$filter");
$s->next_event(5);
$s->next_event(5);
make_message($a, $b, "$tag $_") for 1 .. 3;
my @ev = until_content($s, "$tag 3");
my $last = (grep { ($_->{event} // '') eq 'message' } @ev)[-1]{id};
ok $last, "got up to message 3, id $last";
$s->close;

make_message($a, $b, "$tag $_") for 4 .. 6;    # missed while away
my $r = PChat::SSE->open("/api/messages/sse?$filter", 'Last-Event-ID' => $last);
$r->next_event(5);
@ev = until_content($r, "$tag 6");
is_deeply [map { $_->{content} } messages_of(@ev)],
          [map { "$tag $_" } 4 .. 6], 'Last-Event-ID: exactly the missed ones';
ok !(grep { ($_->{event} // '') eq 'message' && $_->{id} <= $last } @ev),
   'nothing at or before the cursor';
$r->close;

my $q = PChat::SSE->open("/api/messages/sse?$filter&since=$last");
$q->next_event(5);
@ev = until_content($q, "$tag 6");
is_deeply [map { $_->{content} } messages_of(@ev)],
          [map { "$tag $_" } 4 .. 6], '?since= does the same';
my $cursor = (grep { ($_->{event} // '') eq 'message' } @ev)[-1]{id};

# a graceful restart ends the stream cleanly; a reconnect loses nothing
my $pidfile = Apache::Test::vars('t_pid_file');
open my $fh, '<', $pidfile or die "$pidfile: $!";
chomp(my $pid = <$fh>);
kill 'USR1', $pid;
my @rest = $q->collect(10, sub { $q->is_eof });
ok $q->is_eof, 'the stream ended at the graceful restart';
sleep 1;
make_message($a, $b, "$tag $_") for 7 .. 8;    # while reconnecting
my $z = PChat::SSE->open("/api/messages/sse?$filter", 'Last-Event-ID' => $cursor);
$z->next_event(5);
@ev = until_content($z, "$tag 8");
is_deeply [map { $_->{content} } messages_of(@rest, @ev)],
          [map { "$tag $_" } 7 .. 8], 'resumed after the restart: no loss, no repeat';

done_testing;
