package PChat::Browser;
# Runs a browser script of t/browser/ (node + playwright-core) with the
# URLs of the open and the members-only servers' web client, and lets it
# print the TAP.
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use FindBin;
use PChat::Test;

our @EXPORT = qw(run_browser_script);

# run_browser_script(SCRIPT, NAME => VALUE...): OPEN_URL, BASE_URL (members),
# SHOT_DIR and the extra variables set, then exec node SCRIPT.
sub run_browser_script {
    my ($script, %env) = @_;
    my $top = $ENV{PCHAT_TOP} // "$FindBin::Bin/../..";
    # the servers listen on 127.0.0.1 only (t/TEST): not on localhost's ::1
    on_server(undef);
    my ($open_port) = hostport() =~ /(\d+)$/;
    $ENV{OPEN_URL} = "http://127.0.0.1:$open_port/chat/";
    on_server('pchat_members');
    my ($port) = hostport() =~ /(\d+)$/;
    $ENV{BASE_URL} = "http://127.0.0.1:$port/chat/";
    $ENV{SHOT_DIR} = "$top/t/logs/browser";
    $ENV{$_} = $env{$_} for keys %env;
    $| = 1;
    exec 'node', "$FindBin::Bin/$script"
        or do { print "1..1\nnot ok 1 - node runs ($!)\n"; exit 1 };
}

1;
