# Login, logout, me and refresh: shapes, cookie, tokens of every bad kind,
# lockout and unlock.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use MIME::Base64 qw(encode_base64url decode_base64url);
use Digest::SHA qw(hmac_sha256 sha256_hex);
use PChat::Test;

on_server('pchat_members');
my $secret = 'test-secret-0123456789abcdef0123456789';
my $json = JSON::PP->new->utf8->canonical;
my $email = uniq('login') . '@example.com';
my $id = make_user($email, 'right password');

my ($token, $data, $res) = login($email, 'wrong password');
is $res->code, 401, 'wrong password: 401';
is $data->{errors}[0]{message}, 'The email or password provided is incorrect.',
   'wrong password message';
($token, $data, $res) = login('nobody-' . uniq() . '@example.com', 'x');
is $res->code, 401, 'unknown email: 401';

($token, $data, $res) = login(uc $email, 'right password');
is $res->code, 200, 'login (email in any case)';
is $data->{message}, 'Authentication Passed', 'login message';
is $data->{user}{id}, $id, 'the user';
is $data->{user}{collection}, 'users', 'user names its collection';
ok !exists $data->{user}{$_}, "no $_" for qw(hash salt password);
like $data->{token}, qr/^[\w-]+\.[\w-]+\.[\w-]+$/, 'a JWT';
cmp_ok abs($data->{exp} - time - 7200), '<', 10, 'expires in 7200 s';
my $cookie = $res->header('Set-Cookie');
like $cookie, qr/^payload-token=\Q$token\E;/, 'payload-token cookie';
like $cookie, qr/HttpOnly/, 'HttpOnly';
like $cookie, qr/SameSite=Lax/, 'SameSite=Lax';
like $cookie, qr/Path=\//, 'Path=/';
unlike $cookie, qr/Secure/, 'not Secure over plain HTTP';

my ($h, $p) = map { $json->decode(decode_base64url($_)) }
              (split /\./, $token)[0, 1];
is $h->{alg}, 'HS256', 'HS256';
is $h->{authVersion}, 1, 'authVersion 1 in the header, as Payload 3 signs';
is $p->{id}, $id, 'id claim';
is $p->{email}, $email, 'email claim';
is $p->{collection}, 'users', 'collection claim';
ok $p->{sid}, 'session id claim';

# me, with each way of presenting the token
for my $how (["JWT", {Authorization => "JWT $token"}],
             ["Bearer", {Authorization => "Bearer $token"}],
             ["cookie", {Cookie => "payload-token=$token"}]) {
    ($res, $data) = get_json('/api/users/me', undef, %{$how->[1]});
    is $data->{user}{id}, $id, "me with $how->[0]";
}
($res, $data) = get_json('/api/users/me');
is_deeply $data, {user => undef, message => 'Account'},
    'me without a token';

# Two payload-token cookies (cookies of two paths or domains): the first
# that verifies is used, and nothing is logged as an error.
my $log = "$ENV{PCHAT_TOP}/t/logs/error_log";
my $log_size = -s $log;
for my $c ("payload-token=not-a-token; payload-token=$token",
           "a=1; payload-token=$token;payload-token=$token") {
    ($res, $data) = get_json('/api/users/me', undef, Cookie => $c);
    is $data->{user}{id}, $id, "me with cookies '$c'";
}
($res) = get_json('/api/users/me', undef,
                  Cookie => 'payload-token=bad; payload-token=worse');
# (Payload answers /me for a bad token with 200 and user null)
is $res->code, 200, 'two bad cookies: 200';
ok !defined json_of($res)->{user}, '... and nobody is logged in';
open my $lf, '<', $log or die "$log: $!";
seek $lf, $log_size, 0;
my @errors = grep { /:error\]|more than once/ } <$lf>;
is_deeply \@errors, [], 'no error logged for them';

# bad tokens: 401, never a crash
sub sign {
    my ($header, $payload, $key) = @_;
    my $input = encode_base64url($json->encode($header)) . '.'
              . encode_base64url($json->encode($payload));
    return "$input." . encode_base64url(hmac_sha256($input, $key));
}
my $key = substr(sha256_hex($secret), 0, 32);
my %claims = (%$p);
my %hs256 = (alg => 'HS256', authVersion => 1, typ => 'JWT');
my %bad = (
    tampered => do { my $t = $token; $t =~ s/\.([\w-])/.X$1/; $t },
    'alg none' => encode_base64url('{"alg":"none","typ":"JWT"}') . '.'
                  . encode_base64url($json->encode(\%claims)) . '.',
    'wrong secret' => sign({%hs256}, \%claims,
                           substr(sha256_hex('another secret entirely'), 0, 32)),
    expired => sign({%hs256},
                    {%claims, iat => time - 100, exp => time - 10}, $key),
    'unknown session' => sign({%hs256},
                              {%claims, sid => 'nosuchsession'}, $key),
    garbage => 'not a token at all',
    # Payload takes such a token as none: not ours either
    'no authVersion' => sign({alg => 'HS256', typ => 'JWT'}, \%claims, $key),
);
for my $name (sort keys %bad) {
    ($res, $data) = get_json('/api/messages', undef,
                             Authorization => "JWT $bad{$name}");
    is $res->code, 401, "$name token: 401";
    is $data->{errors}[0]{message},
       'Unauthorized, you must be logged in to make this request.',
       "$name: Payload's message";
}
($res) = get_json('/api/messages?limit=1', undef,
                  Authorization => 'JWT ' . sign({%hs256},
                                                 \%claims, $key));
is $res->code, 200, 'a token we signed the same way is accepted';

# refresh
($res, $data) = post_json('/api/users/refresh-token', undef,
                          Authorization => "JWT $token");
is $res->code, 200, 'refresh';
is $data->{message}, 'Token refresh successful.', 'refresh message';
ok $data->{refreshedToken}, 'a refreshed token';
($res) = get_json('/api/users/me', undef,
                  Authorization => "JWT $data->{refreshedToken}");
is $res->code, 200, 'the refreshed token works';

# logout ends the session: the token stops working
($res, $data) = post_json('/api/users/logout', undef,
                          Authorization => "JWT $token");
is $res->code, 200, 'logout';
is $data->{message}, 'Logout successful.', 'logout message';
($res) = get_json('/api/messages', undef, Authorization => "JWT $token");
is $res->code, 401, 'a logged-out token is refused';

# lockout after 3 failures (PayloadChatMaxLoginAttempts 3, LockTime 2 s)
login($email, 'bad') for 1 .. 3;
($token, $data, $res) = login($email, 'right password');
is $res->code, 401, 'locked: even the right password fails';
is $data->{errors}[0]{message},
   'This user is locked due to having too many failed login attempts.',
   'locked message';
sleep 3;
($token, $data, $res) = login($email, 'right password');
is $res->code, 200, 'unlocked after the lock time';

done_testing;
