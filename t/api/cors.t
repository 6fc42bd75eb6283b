# CORS for the configured origin only, on answers and preflights.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

my $ok = 'https://allowed.example';
my ($res) = api('OPTIONS', '/api/messages', undef, Origin => $ok,
                'Access-Control-Request-Method' => 'POST',
                'Access-Control-Request-Headers' => 'content-type');
is $res->code, 204, 'preflight answers 204';
is $res->header('Access-Control-Allow-Origin'), $ok, 'allowed origin echoed';
like $res->header('Access-Control-Allow-Methods'), qr/POST/, 'methods listed';
like $res->header('Access-Control-Allow-Headers'), qr/Content-Type/i,
     'headers listed';
is $res->header('Access-Control-Allow-Credentials'), 'true', 'credentials';

($res) = api('OPTIONS', '/api/messages', undef, Origin => 'https://evil.example',
             'Access-Control-Request-Method' => 'POST');
ok !defined $res->header('Access-Control-Allow-Origin'),
   'no CORS headers for another origin';

($res) = get_json('/api/messages?limit=1', undef, Origin => $ok);
is $res->code, 200, 'GET with an allowed origin';
is $res->header('Access-Control-Allow-Origin'), $ok, 'ACAO on the answer';
like $res->header('Vary') // '', qr/Origin/, 'Vary: Origin';

($res) = get_json('/api/messages/999999999', undef, Origin => $ok);
is $res->code, 404, 'an error answer';
is $res->header('Access-Control-Allow-Origin'), $ok, 'carries CORS headers';

($res) = get_json('/api/messages?limit=1', undef,
                  Origin => 'https://evil.example');
ok !defined $res->header('Access-Control-Allow-Origin'),
   'no ACAO for another origin';

done_testing;
