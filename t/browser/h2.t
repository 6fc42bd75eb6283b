# The web client over HTTPS with HTTP/2 in headless Chromium:
# t/browser/h2.mjs prints the TAP.  STREAM_URL is the stream on an
# HTTPS/1.1-only port, for the page of the deployment recipe.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use PChat::Test;

on_server('pchat_tls');
# the servers listen on 127.0.0.1 only (t/TEST): not on localhost's ::1
my ($port) = hostport() =~ /(\d+)$/;
$ENV{TLS_URL} = "https://127.0.0.1:$port/chat/";
on_server('pchat_tls_h1');
my ($h1_port) = hostport() =~ /(\d+)$/;
$ENV{STREAM_URL} = "https://127.0.0.1:$h1_port/api/messages/sse";
$| = 1;
exec 'node', "$FindBin::Bin/h2.mjs"
    or do { print "1..1\nnot ok 1 - node runs ($!)\n"; exit 1 };
