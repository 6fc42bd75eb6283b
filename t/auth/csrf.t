# With cookie auth, requests that change state from another site are
# refused; this site, an allowed origin and header tokens are not.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
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
($res) = post_json('/api/messages', $msg, Cookie => $cookie,
                   Referer => "$self/chat/");
is $res->code, 201, 'a Referer of this site: allowed';
($res) = post_json('/api/messages', $msg, Cookie => $cookie);
is $res->code, 403, 'neither Origin nor Referer: any site could have sent it';
($res) = delete_json('/api/messages?where[content][like]=nothing', undef,
                     Cookie => $cookie, Origin => 'null');
is $res->code, 403, 'Origin: null (a sandboxed page): 403';
($res) = post_json('/api/messages', $msg, Authorization => "JWT $token",
                   Origin => 'https://evil.example');
is $res->code, 201, 'a header token is no CSRF risk';
($res) = get_json('/api/messages?limit=1', undef, Cookie => $cookie,
                  Origin => 'https://evil.example');
is $res->code, 200, 'reads are not state changes';


# Bodies a page of another site can send without a CORS preflight
# (text/plain, form, multipart) are never read as JSON: no login, no write.
my %login = (email => $email, password => 'csrf-password');
my $login_json = '{"email":"' . $email . '","password":"csrf-password"}';
for my $type ('text/plain', 'application/x-www-form-urlencoded',
              'multipart/form-data; boundary=x', 'application/jsonx') {
    ($res, my $data) = api('POST', '/api/users/login', $login_json,
                           'Content-Type' => $type, Origin => $self);
    is $res->code, 415, "login as $type: 415";
    ok !$res->header('Set-Cookie'), "$type: no cookie";
    like $data->{errors}[0]{message}, qr{Content-Type: application/json},
         "$type: says which type";
    ($res) = api('POST', '/api/messages', JSON::PP::encode_json($msg),
                 'Content-Type' => $type, Cookie => $cookie, Origin => $self);
    is $res->code, 415, "a cookie write as $type: 415";
}
($res) = api('POST', '/api/users/login', $login_json,
             'Content-Type' => 'Application/JSON ; charset=utf-8');
is $res->code, 200, 'application/json with a charset, in any case: fine';

# a login from a page of another site would log the browser in
($res) = post_json('/api/users/login', \%login,
                   Origin => 'https://evil.example');
is $res->code, 403, 'login from another origin: 403';
ok !$res->header('Set-Cookie'), 'and no cookie';
($res) = post_json('/api/users/login', \%login,
                   Referer => 'https://evil.example/page');
is $res->code, 403, 'login with a foreign Referer: 403';
($res) = post_json('/api/users/login', \%login, Origin => $self);
is $res->code, 200, 'login from this site';
like $res->header('Set-Cookie') // '', qr/^payload-token=/, 'sets the cookie';
($res) = post_json('/api/users/login', \%login,
                   Origin => 'https://allowed.example');
is $res->code, 200, 'login from an allowed origin';
($res) = post_json('/api/users/login', \%login);
is $res->code, 200, 'login without a browser (no Origin, no Referer)';

# nothing refused was stored, nothing stored was lost
my ($sent) = db_query("SELECT COUNT(*) FROM messages WHERE content = "
                      . "'$msg->{content}' AND deleted = 0");
is $sent, 4, 'exactly the four accepted messages are stored';

done_testing;
