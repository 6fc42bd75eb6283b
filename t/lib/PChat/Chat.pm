package PChat::Chat;
# Helpers for the chat features' tests (presence, typing, receipts,
# conversations): logged-in users, their streams, and the events of a kind
# a stream got.
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use JSON::PP ();
use PChat::Test;
use PChat::SSE;

our @EXPORT = qw(people stream_of events_of no_events_of);

# Users named by @names on the current server: {name => {id, token, as}}
# where as is the Authorization header to pass to api().
sub people {
    my @names = @_;
    my %p;
    for my $n (@names) {
        my $email = uniq($n) . '@example.com';
        my $id = make_user($email, "password-$n");
        my ($token) = login($email, "password-$n");
        die "cannot log in $email" unless $token;
        $p{$n} = {id => $id, email => $email, token => $token,
                  as => {Authorization => "JWT $token"}};
    }
    return \%p;
}

# A stream of the current server opened as $who (undef: anonymously),
# past its first event; only messages of $tag (none by default).
sub stream_of {
    my ($who, $tag) = @_;
    $tag //= 'no-message-' . uniq('t');
    my $s = PChat::SSE->open("/api/messages/sse?where[content][like]=$tag",
                             $who ? %{$who->{as}} : ());
    die 'stream: ' . ($s->status // 'no status') unless ($s->status // 0) == 200;
    $s->next_event(5);
    return $s;
}

# The data of the events of $kind (decoded) the stream gets within
# $timeout seconds, until $done->(\@data) is true.
sub events_of {
    my ($s, $kind, $timeout, $done) = @_;
    my @data;
    $s->collect($timeout, sub {
        my $ev = $_[0][-1];
        if (($ev->{event} // '') eq $kind) {
            my $d = JSON::PP::decode_json($ev->{data});
            $d->{_has_id} = exists $ev->{id} ? 1 : 0;
            push @data, $d;
        }
        return $done && $done->(\@data);
    });
    return @data;
}

# The events of $kind the stream gets within $timeout seconds.
sub no_events_of {
    my ($s, $kind, $timeout) = @_;
    return scalar events_of($s, $kind, $timeout);
}

1;
