# Headers, framing, backlog replay and live delivery.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use PChat::Test;
use PChat::SSE;

my $json = JSON::PP->new->utf8;
on_server('pchat_fast');    # backlog 3, batch 5
my ($a, $b) = (make_user(), make_user());
my $tag = uniq('fmt');
my @old = map { make_message($a, $b, "$tag old $_") } 1 .. 4;
my $filter = "where[content][like]=$tag";

my $s = PChat::SSE->open("/api/messages/sse?$filter");
is $s->status, 200, 'the stream answers 200';
like $s->header('Content-Type'), qr{^text/event-stream}, 'event-stream type';
is $s->header('Cache-Control'), 'no-cache', 'no-cache';
is $s->header('X-Accel-Buffering'), 'no', 'X-Accel-Buffering: no';
like $s->header('Transfer-Encoding'), qr/chunked/, 'chunked, no length';
ok !defined $s->header('Content-Length'), 'no Content-Length';

my $first = $s->next_event(5);
ok defined $first->{comment}, 'opens with a comment';
like $first->{retry}, qr/^\d+$/, 'and a retry hint';

my $backlog = $s->next_event(5);
is $backlog->{event}, 'message', 'backlog as event: message';
like $backlog->{id}, qr/^\d+$/, 'with an id';
my $docs = $json->decode($backlog->{data});
is_deeply [map { $_->{content} } @$docs], ["$tag old 2", "$tag old 3",
          "$tag old 4"], 'the last 3 (PayloadChatStreamBacklog), oldest first';
is_deeply [sort keys %{$docs->[0]{sender}}], [qw(collection email id)],
          'users reduced to id, email and collection';
is $docs->[0]{sender}{id}, $a, 'sender populated';

my $t0 = time;
my $new = make_message($b, $a, "$tag live");
my $live = $s->next_event(5);
is $live->{event}, 'message', 'a live message';
ok $live->{id} > $backlog->{id}, 'its id moves on';
$docs = $json->decode($live->{data});
is scalar @$docs, 1, 'one doc';
is $docs->[0]{id}, $new->{id}, 'the new message';
ok $docs->[0]{receiver}{id} == $a, 'receiver is the right user';
$s->close;

# a filter that matches nothing: a bare id moves the cursor
my $none = PChat::SSE->open("/api/messages/sse?where[content][equals]="
                            . uniq('nothing'));
$none->next_event(5);
my $bare = $none->next_event(5);
like $bare->{id}, qr/^\d+$/, 'an empty backlog still sends an id';
ok !defined $bare->{data}, 'with no data';

# compression must not hold frames back (mod_deflate is on for
# text/event-stream in the test config)
my $z = PChat::SSE->open("/api/messages/sse?$filter", 'Accept-Encoding' => 'gzip');
ok !defined $z->header('Content-Encoding'), 'the stream is not compressed';
$z->next_event(5);
$z->next_event(5);
make_message($a, $b, "$tag through deflate");
my $through = $z->next_event(3);
like $through && $through->{data}, qr/through deflate/,
     'a frame arrives at once with gzip accepted';
$z->close;
my ($jr) = get_json('/api/messages?limit=1', undef, 'Accept-Encoding' => 'gzip');
is $jr->header('Content-Encoding'), 'gzip', 'JSON answers are still compressed';

# bad requests
my ($res, $data) = get_json('/api/messages/sse?where[nosuch][equals]=1');
is $res->code, 400, 'unknown where field: 400';
is $data->{errors}[0]{name}, 'QueryError', 'QueryError';
($res) = get_json('/api/messages/sse', undef, 'Last-Event-ID' => 'abc');
is $res->code, 400, 'malformed Last-Event-ID: 400';
($res) = get_json('/api/messages/sse?since=-1');
is $res->code, 400, 'malformed since: 400';
($res) = api('POST', '/api/messages/sse', {});
is $res->code, 405, 'POST: 405';

done_testing;
