# The stream over HTTP/2, on one connection beside API requests: over TLS
# (ALPN h2) and over cleartext h2c.  Perl has no HTTP/2 client, so
# t/lib/h2sse.py (Debian's python3-h2) runs each scenario and prints TAP,
# which this file checks line by line.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Apache::Test ();
use Apache::TestRequest ();

plan skip_all => 'mod_http2 serves no HTTP/2 under prefork (the event '
               . 'pass runs this file)'
    if ($ENV{PCHAT_MPM} // '') eq 'prefork';

my $python = '/usr/bin/python3';
my $script = "$FindBin::Bin/../lib/h2sse.py";
my $pidfile = Apache::Test::vars('t_pid_file');

sub port_of {
    Apache::TestRequest::module($_[0]);
    my (undef, $port) = split /:/, Apache::TestRequest::hostport();
    $Apache::TestRequest::Module = undef;
    return $port;
}

# Runs one scenario; each of its TAP lines becomes a test here.
sub scenario {
    my ($name, $vhost, $tls) = @_;
    my $port = port_of($vhost);
    my @out = `$python $script $name $port $tls $pidfile 2>&1`;
    my $status = $? >> 8;
    my ($planned, $seen) = (0, 0);
    for (@out) {
        chomp;
        if (/^(not )?ok \d+ - (.*)$/) {
            $seen++;
            ok !$1, "$name over " . ($tls ? 'h2' : 'h2c') . ": $2";
        }
        elsif (/^1\.\.(\d+)$/) {
            $planned = $1;
        }
        else {
            diag $_;
        }
    }
    ok $planned && $planned == $seen && $status == 0,
       "$name: the scenario ran to its end ($seen of $planned, exit $status)";
}

scenario('basic', 'pchat_tls', 1);
scenario('basic', 'pchat_h2c', 0);
scenario('multiplex', 'pchat_tls', 1);
scenario('per_connection', 'pchat_h2c', 0);
scenario('per_child', 'pchat_h2small', 0);
scenario('per_child_connections', 'pchat_h2conns', 0);
scenario('restart', 'pchat_tls', 1);

done_testing;
