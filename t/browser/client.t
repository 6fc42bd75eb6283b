# The web client's fixes of issue 16 (logout, unread counts, new users,
# the badge, editing in place, day separators, favicon, people search) end
# to end in headless Chromium: t/browser/client.mjs prints the TAP.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use PChat::Browser;

run_browser_script('client.mjs');
