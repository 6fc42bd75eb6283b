# The module acts only where it is switched on: a virtual host with
# `PayloadChat Off` (or one that never said On) leaves /api to the rest of
# Apache, while the server next to it serves the chat.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;
use Apache::TestRequest ();

on_server(undef);
my ($res, $data) = get_json('/api/messages/count');
is $res->code, 200, 'the main server (PayloadChat On) serves the API';
ok defined $data->{totalDocs}, '... with a count';

on_server('pchat_off');
($res, $data) = get_json('/api/messages/count');
is $res->code, 404, 'PayloadChat Off: /api/messages/count is not the chat';
ok !defined($data) || !exists $data->{totalDocs}, '... and no count leaks';
$res = post_json('/api/messages', {content => 'x', sender => 1, receiver => 1});
isnt $res->code, 201, 'PayloadChat Off: nothing can be posted there';
($res) = get_json('/api/messages/sse');
is $res->code, 404, 'PayloadChat Off: no stream there';
ok !defined $res->header('X-Frame-Options'),
    '... and none of the API\'s headers';
on_server(undef);

# What runs where is in the error log from startup: one line per server
# that serves the chat, none for the one that is off.
my $log = do { local (@ARGV, $/) = ('t/logs/error_log'); <> } // '';
my ($off_port) = Apache::TestRequest::module2url('pchat_off') =~ /:(\d+)/;
my ($members_port) =
    Apache::TestRequest::module2url('pchat_members') =~ /:(\d+)/;
like $log, qr/PCH00004: \S+:$members_port serves the chat at \/api: access members, database \S+/,
    'startup names the members server, its access mode and database';
unlike $log, qr/PCH00004: \S+:$off_port serves/,
    'and says nothing of the server where the module is off';

done_testing;
