# With cookie auth, requests that change state from another site are
# refused; this site, an allowed origin and header tokens are not.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

on_server('pchat_members');
my $email = uniq('csrf') . '@example.com';
my $me = make_user($email, 'csrf-password');
my ($token) = login($email, 'csrf-password');
my $other = make_user();
my $cookie = "payload-token=$token";
my $msg = {sender => $me, receiver => $other, content => uniq('csrf')};
my $self = 'http://' . hostport();

my ($res) = post_json('/api/messages', $msg, Cookie => $cookie,
                      Origin => 'https://evil.example');
is $res->code, 403, 'cookie POST from another origin: 403';
($res) = post_json('/api/messages', $msg, Cookie => $cookie,
                   Referer => 'https://evil.example/page');
is $res->code, 403, 'cookie POST with a foreign Referer: 403';
($res) = post_json('/api/messages', $msg, Cookie => $cookie, Origin => $self);
is $res->code, 201, 'from this site: allowed';
($res) = post_json('/api/messages', $msg, Cookie => $cookie,
                   Origin => 'https://allowed.example');
is $res->code, 201, 'an origin of PayloadChatCORSOrigins: allowed';
($res) = post_json('/api/messages', $msg, Cookie => $cookie);
is $res->code, 201, 'no browser context (no Origin, no Referer): allowed';
($res) = post_json('/api/messages', $msg, Authorization => "JWT $token",
                   Origin => 'https://evil.example');
is $res->code, 201, 'a header token is no CSRF risk';
($res) = get_json('/api/messages?limit=1', undef, Cookie => $cookie,
                  Origin => 'https://evil.example');
is $res->code, 200, 'reads are not state changes';

done_testing;
