# A backlog larger than PayloadChatStreamBatch (5 here) goes out as several
# frames in one tick, in order.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use PChat::Test;
use PChat::SSE;

on_server('pchat_fast');
my ($a, $b) = (make_user(), make_user());
my $tag = uniq('batch');
my $probe = PChat::SSE->open("/api/messages/sse?where[content][equals]=none");
$probe->next_event(5);
my $start = $probe->next_event(5)->{id};
$probe->close;
my @sent = map { make_message($a, $b, "$tag $_")->{id} } 1 .. 12;

my $s = PChat::SSE->open("/api/messages/sse?where[content][like]=$tag",
                         'Last-Event-ID' => $start);
$s->next_event(5);
my @frames = grep { ($_->{event} // '') eq 'message' }
             $s->collect(10, sub { 3 == grep { ($_->{event} // '') eq 'message' } @{$_[0]} });
is scalar @frames, 3, 'three frames';
is_deeply [map { scalar(PChat::SSE::docs_of('message', $_)) } @frames], [5, 5, 2],
          'of 5, 5 and 2 docs';
is_deeply [map { $_->{id} } PChat::SSE::docs_of('message', @frames)],
          \@sent, 'all twelve in order';
ok $frames[0]{id} < $frames[1]{id} && $frames[1]{id} < $frames[2]{id},
   'frame ids increase';
cmp_ok $frames[2]{at} - $frames[0]{at}, '<', 0.5, 'sent together';

done_testing;
