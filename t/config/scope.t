# The module acts only where it is switched on: a virtual host with
# `PayloadChat Off` (or one that never said On) leaves /api to the rest of
# Apache, while the server next to it serves the chat.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

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

done_testing;
