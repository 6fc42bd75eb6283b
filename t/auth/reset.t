# forgot-password, reset-password and unlock, as Payload's: forgot answers
# the same for any email and logs the link of a known one; its token sets a
# new password once, within the hour; a logged-in user unlocks an account.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

my $LOG = 't/logs/error_log';
on_server('pchat_reset');

# The token of the last reset link for $email in the log since $start.
sub logged_token {
    my ($email, $start) = @_;
    open my $fh, '<', $LOG or die "$LOG: $!";
    seek $fh, $start, 0;
    my $token;
    while (my $line = <$fh>) {
        $token = $1 if $line =~ /PCH01901: password reset link for \Q$email\E: https:\/\/chat\.example\/reset\?token=([0-9a-f]+)/;
    }
    return $token;
}

my $email = uniq('reset') . '@example.com';
make_user($email, 'old-password');

# forgot: the same answer for an unknown and a known email
my $start = -s $LOG;
my ($res, $data) = post_json('/api/users/forgot-password',
                             {email => uniq('nobody') . '@example.com'});
is $res->code, 200, 'forgot, unknown email: 200';
is_deeply $data, {message => 'Success'}, 'forgot, unknown email: Success';
($res, $data) = post_json('/api/users/forgot-password', {email => uc $email});
is $res->code, 200, 'forgot, known email: 200';
is_deeply $data, {message => 'Success'}, 'forgot, known email: Success';
($res, $data) = post_json('/api/users/forgot-password', {});
is $res->code, 400, 'forgot without email: 400';
is $data->{errors}[0]{message}, 'Missing email.', 'Missing email.';

my $token;
for (1 .. 50) {    # the log line may land a moment after the answer
    last if $token = logged_token($email, $start);
    select undef, undef, undef, 0.1;
}
like $token // '', qr/^[0-9a-f]{40}$/, 'the link carries a 40-hex token';

($res, $data) = post_json('/api/users/reset-password',
                          {token => 'f' x 40, password => 'new-password'});
is $res->code, 403, 'garbage token: 403';
is $data->{errors}[0]{message}, 'Token is either invalid or has expired.',
   'garbage token: Payload message';
($res, $data) = post_json('/api/users/reset-password', {token => $token});
is $res->code, 400, 'no password: 400';
is $data->{errors}[0]{message}, 'Missing required data.', 'Missing required data.';
($res, $data) = post_json('/api/users/reset-password',
                          {token => $token, password => 'short'});
is $res->code, 400, 'a short new password: 400';
is $data->{errors}[0]{name}, 'ValidationError', 'a short new password: ValidationError';

($res, $data) = post_json('/api/users/reset-password',
                          {token => $token, password => 'new-password'});
is $res->code, 200, 'reset: 200';
is $data->{message}, 'Password reset successfully.', 'reset: message';
is $data->{user}{email}, $email, 'reset: the user';
ok $data->{token}, 'reset: logged in (token)';
like $res->header('Set-Cookie') // '', qr/^payload-token=/, 'reset: cookie';
my ($t) = get_json('/api/users/me', undef, Authorization => "JWT $data->{token}");
is $t->code, 200, 'the new token works';

ok !(login($email, 'old-password'))[0], 'the old password fails';
ok +(login($email, 'new-password'))[0], 'the new password logs in';
($res) = post_json('/api/users/reset-password',
                   {token => $token, password => 'other-password'});
is $res->code, 403, 'a used token: 403';

# an expired token
$start = -s $LOG;
post_json('/api/users/forgot-password', {email => $email});
my $token2;
for (1 .. 50) {
    last if $token2 = logged_token($email, $start);
    select undef, undef, undef, 0.1;
}
ok $token2 && $token2 ne $token, 'a second forgot: a new token';
db_exec("UPDATE users SET reset_password_expiration = 1 WHERE email = '$email'");
($res) = post_json('/api/users/reset-password',
                   {token => $token2, password => 'other-password'});
is $res->code, 403, 'an expired token: 403';
ok +(login($email, 'new-password'))[0], 'the password is unchanged';

# unlock: lock an account, then another logged-in user unlocks it
my $locked = uniq('locked') . '@example.com';
make_user($locked, 'right-password');
my $other = uniq('other') . '@example.com';
make_user($other, 'other-password');
ok !(login($locked, 'wrong-password'))[0], "wrong password $_" for 1 .. 3;
my (undef, $ld) = login($locked, 'right-password');
is $ld->{errors}[0]{message} // '',
   'This user is locked due to having too many failed login attempts.',
   'locked';
($res, $data) = post_json('/api/users/unlock', {email => $locked});
is $res->code, 403, 'anonymous unlock: 403';
ok !(login($locked, 'right-password'))[0], 'still locked';
my ($otok) = login($other, 'other-password');
($res, $data) = post_json('/api/users/unlock', {}, Authorization => "JWT $otok");
is $res->code, 400, 'unlock without email: 400';
($res, $data) = post_json('/api/users/unlock', {email => $locked},
                          Authorization => "JWT $otok");
is $res->code, 200, 'unlock: 200';
is_deeply $data, {message => 'Success'}, 'unlock: Success';
ok +(login($locked, 'right-password'))[0], 'the right password logs in again';

done_testing;
