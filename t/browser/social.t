# Presence, typing, read receipts, server-side unread counts, the
# conversation list, notifications and the search within a conversation
# (issue 16) end to end in headless Chromium: t/browser/social.mjs prints
# the TAP.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use PChat::Browser;

# The server's bound for "offline" after the last stream of a user closes
# (README, t/chat/presence.t): 5 s.
run_browser_script('social.mjs', OFFLINE_WITHIN => 5000);
