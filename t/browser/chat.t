# The web client (htdocs/, served at /chat/ by the members-only virtual
# host) end to end in headless Chromium: t/browser/chat.mjs prints the TAP.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use PChat::Browser;

my $top = $ENV{PCHAT_TOP} // "$FindBin::Bin/../..";
run_browser_script('chat.mjs',
                   RESTART_CMD => "kill -USR1 \$(cat $top/t/logs/httpd.pid)");
