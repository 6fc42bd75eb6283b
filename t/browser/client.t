# The web client's fixes of issue 16 (logout, unread counts, new users,
# the badge, editing in place, day separators, favicon, people search) end
# to end in headless Chromium: t/browser/client.mjs prints the TAP.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use PChat::Test;

on_server(undef);
my ($open_port) = hostport() =~ /(\d+)$/;
$ENV{OPEN_URL} = "http://127.0.0.1:$open_port/chat/";
on_server('pchat_members');
my $top = $ENV{PCHAT_TOP} // "$FindBin::Bin/../..";
# the servers listen on 127.0.0.1 only (t/TEST): not on localhost's ::1
my ($port) = hostport() =~ /(\d+)$/;
$ENV{BASE_URL} = "http://127.0.0.1:$port/chat/";
$ENV{SHOT_DIR} = "$top/t/logs/browser";
$| = 1;
exec 'node', "$FindBin::Bin/client.mjs"
    or do { print "1..1\nnot ok 1 - node runs ($!)\n"; exit 1 };
