# mod_status's page carries a Payload Chat section (HTML and ?auto lines)
# whose figures are the node's, whichever child serves the page: writes
# grow after a POST, subscribers while a stream is open, frames and
# messages delivered after a message reaches the stream.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep time);
use PChat::Test;
use PChat::SSE;
use Apache::TestRequest ();

sub status_auto {
    my $res = Apache::TestRequest::GET('/server-status?auto');
    die 'server-status: ' . $res->status_line unless $res->code == 200;
    my %v = $res->content =~ /^(PayloadChat\w+): (.*)$/mg;
    return \%v;
}

# Polls the page until $cond holds of it (a child may answer before the
# counters it reads have moved: generous bound for a loaded machine).
sub status_until {
    my $cond = shift;
    my $deadline = time + 15;
    my $v;
    do { $v = status_auto(); return $v if $cond->($v); sleep 0.2 }
        while time < $deadline;
    return $v;
}

on_server(undef);
my $before = status_auto();
for my $line (qw(Subscribers H2Subscribers FramesDelivered MessagesDelivered Writes
                 WritesPerSec DBBusy DBIdle HubState
                 LastPurgeSecondsAgo)) {
    like $before->{"PayloadChat$line"} // '', qr/\S/, "?auto has PayloadChat$line";
}
like $before->{PayloadChatWrites}, qr/^\d+$/, 'writes is a count';

my $u = make_user();
make_message($u, $u);
my $after = status_until(sub { $_[0]{PayloadChatWrites} > $before->{PayloadChatWrites} });
cmp_ok $after->{PayloadChatWrites}, '>', $before->{PayloadChatWrites},
    'writes grow after a POST';
cmp_ok $after->{PayloadChatDBIdle} + $after->{PayloadChatDBBusy}, '>=', 1,
    'a database connection is open after the POST';

my $tag = uniq('status');
my $s = PChat::SSE->watch($tag);
my $open = status_until(sub { $_[0]{PayloadChatSubscribers}
                              > $before->{PayloadChatSubscribers} });
cmp_ok $open->{PayloadChatSubscribers}, '>', $before->{PayloadChatSubscribers},
    'subscribers grow while a stream is open';
is $open->{PayloadChatH2Subscribers}, $before->{PayloadChatH2Subscribers},
    '... an HTTP/1.1 stream not among the h2 subscribers';

make_message($u, $u, "$tag one");
my @ev = $s->collect(10, sub { grep { ($_->{event} // '') eq 'message' } @{$_[0]} });
is scalar(PChat::SSE::docs_of('message', @ev)), 1, 'the stream got the message';
my $sent = status_until(sub {
    $_[0]{PayloadChatMessagesDelivered} > $open->{PayloadChatMessagesDelivered} });
cmp_ok $sent->{PayloadChatFramesDelivered}, '>', $open->{PayloadChatFramesDelivered},
    'frames delivered grow';
cmp_ok $sent->{PayloadChatMessagesDelivered}, '>',
    $open->{PayloadChatMessagesDelivered}, 'messages delivered grow';
like $sent->{PayloadChatHubState}, qr/^(running|idle \(no stream\))$/,
    'the hub is running (or, under prefork, idle)';
like Apache::TestRequest::GET('/server-status?auto')->content,
    qr/^PayloadChatChild: pid=\d+ subscribers=\d+ h2_subscribers=\d+ h2_connections=\d+ db_busy=\d+ db_idle=\d+$/m,
    'a line per child';

$s->close;
my $closed = status_until(sub { $_[0]{PayloadChatSubscribers}
                                < $sent->{PayloadChatSubscribers} });
cmp_ok $closed->{PayloadChatSubscribers}, '<', $sent->{PayloadChatSubscribers},
    'subscribers go down when the stream closes';

my $html = Apache::TestRequest::GET('/server-status')->content;
like $html, qr{<h2>Payload Chat</h2>}, 'the HTML page has the section';
like $html, qr{Message writes: \d+}, '... with the writes';

done_testing;
