package PChat::SSE;
# A small Server-Sent Events client over a raw socket: LWP under
# Apache::TestRequest cannot read a stream incrementally.  Each event is a
# hash of the fields of one block (id, event, data, retry, comment); blocks
# without data (a bare id) are returned too, so tests can see them.
use strict;
use warnings FATAL => 'all';
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes qw(time);
use Apache::TestRequest ();
use JSON::PP ();

# The docs of the events of one kind ('message' or 'delete'), in order.
sub docs_of {
    my ($kind, @events) = @_;
    return map { @{JSON::PP::decode_json($_->{data})} }
           grep { ($_->{event} // '') eq $kind } @events;
}

# Opens $path on the test server.
sub open {
    my ($class, $path, %headers) = @_;
    return $class->open_at(Apache::TestRequest::hostport(), $path, %headers);
}

# The test's usual stream: messages whose content contains $tag, opened
# (a passed test) and past its first event (the cursor).
sub watch {
    my ($class, $tag) = @_;
    my $s = $class->open("/api/messages/sse?where[content][like]=$tag");
    Test::More::is($s->status, 200, 'subscribed');
    $s->next_event(5);
    return $s;
}

# Opens $path on host:port (another node).
sub open_at {
    my ($class, $hostport, $path, %headers) = @_;
    my ($host, $port) = split /:/, $hostport;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $port, Proto => 'tcp',
                                     Timeout => 10)
        or die "connect to $port: $!";
    return $class->_request($sock, $host, $port, $path, %headers);
}

# Opens $path over TLS (HTTP/1.1 by ALPN) on host:port, trusting the test's
# self-signed certificate.
sub open_tls {
    my ($class, $hostport, $path, %headers) = @_;
    require IO::Socket::SSL;
    my ($host, $port) = split /:/, $hostport;
    my $sock = IO::Socket::SSL->new(PeerAddr => '127.0.0.1',
                                    PeerPort => $port, Timeout => 10,
                                    SSL_verify_mode => 0,
                                    SSL_alpn_protocols => ['http/1.1'])
        or die "TLS connect to $port: $IO::Socket::SSL::SSL_ERROR";
    my $self = $class->_request($sock, $host, $port, $path, %headers);
    $self->{alpn} = $sock->alpn_selected;
    return $self;
}

sub _request {
    my ($class, $sock, $host, $port, $path, %headers) = @_;
    my $req = "GET $path HTTP/1.1\r\nHost: $host:$port\r\n"
            . "Accept: text/event-stream\r\n";
    $req .= "$_: $headers{$_}\r\n" for keys %headers;
    print $sock "$req\r\n";
    my $self = bless {sock => $sock, raw => '', text => '', events => [],
                      eof => 0}, $class;
    $self->_read_head(10) or die "no response head for $path";
    return $self;
}

sub status  { $_[0]{status} }
sub header  { $_[0]{headers}{lc $_[1]} }
sub is_eof  { $_[0]{eof} }

# Reads what the socket has within $timeout seconds; false at EOF.
sub _fill {
    my ($self, $timeout) = @_;
    return 0 if $self->{eof};
    my $sel = IO::Select->new($self->{sock});
    # TLS may hold decrypted bytes that select() cannot see
    my $pending = $self->{sock}->can('pending') && $self->{sock}->pending;
    return 1 unless $pending || $sel->can_read($timeout < 0 ? 0 : $timeout);
    my $n = sysread $self->{sock}, my $buf, 65536;
    if (!$n) {
        $self->{eof} = 1;
        return 0;
    }
    $self->{raw} .= $buf;
    return 1;
}

sub _read_head {
    my ($self, $timeout) = @_;
    my $deadline = time + $timeout;
    while ($self->{raw} !~ /\r\n\r\n/) {
        return 0 if time > $deadline || !$self->_fill($deadline - time);
    }
    my ($head, $rest) = split /\r\n\r\n/, $self->{raw}, 2;
    my ($status, @lines) = split /\r\n/, $head;
    ($self->{status}) = $status =~ m{^HTTP/1\.\d (\d{3})};
    for (@lines) {
        my ($k, $v) = split /:\s*/, $_, 2;
        $self->{headers}{lc $k} = $v;
    }
    $self->{chunked} = ($self->{headers}{'transfer-encoding'} // '') =~ /chunked/i;
    $self->{raw} = $rest;
    return 1;
}

# Moves whole chunks from raw into text (or everything, when not chunked).
sub _dechunk {
    my ($self) = @_;
    if (!$self->{chunked}) {
        $self->{text} .= $self->{raw};
        $self->{raw} = '';
        return;
    }
    while ($self->{raw} =~ /^([0-9a-fA-F]+)\r\n/) {
        my $size = hex $1;
        my $start = length($1) + 2;
        last if length($self->{raw}) < $start + $size + 2;
        if ($size == 0) {
            $self->{eof} = 1;
            $self->{raw} = '';
            last;
        }
        $self->{text} .= substr($self->{raw}, $start, $size);
        $self->{raw} = substr($self->{raw}, $start + $size + 2);
    }
}

sub _parse_blocks {
    my ($self) = @_;
    while ($self->{text} =~ s/^(.*?)\n\n//s) {
        my %ev;
        for my $line (split /\n/, $1) {
            if ($line =~ /^:\s?(.*)$/) {
                $ev{comment} = $1;
                next;
            }
            my ($k, $v) = $line =~ /^([^:]+):\s?(.*)$/ or next;
            $ev{$k} = exists $ev{$k} && $k eq 'data' ? "$ev{$k}\n$v" : $v;
        }
        $ev{at} = time;
        push @{$self->{events}}, \%ev;
    }
}

# The next block, or undef after $timeout seconds or at the end.
sub next_event {
    my ($self, $timeout) = @_;
    my $deadline = time + ($timeout // 5);
    while (!@{$self->{events}}) {
        $self->_dechunk;
        $self->_parse_blocks;
        last if @{$self->{events}};
        return undef if $self->{eof} || time >= $deadline;
        $self->_fill($deadline - time);
    }
    return shift @{$self->{events}};
}

# Events until $done->(\@events) is true or $timeout passes.
sub collect {
    my ($self, $timeout, $done) = @_;
    my $deadline = time + $timeout;
    my @events;
    while (time < $deadline) {
        my $ev = $self->next_event($deadline - time) or last;
        push @events, $ev;
        last if $done && $done->(\@events);
    }
    return @events;
}

sub close {
    my ($self) = @_;
    close $self->{sock} if $self->{sock};
    delete $self->{sock};
}

sub DESTROY { $_[0]->close }

1;
