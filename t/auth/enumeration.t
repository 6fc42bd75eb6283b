# A failed login takes as long whether the email exists or not, and every
# request that hashes a password (login, sign-up, a new password) counts
# against PayloadChatMaxLoginsPerMinute (the pchat_hashing host: 3).
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(time);
use PChat::Test;

on_server(undef);
my $email = uniq('enum') . '@example.com';
make_user($email, 'right password');

sub took {
    my ($who) = @_;
    my $t0 = time;
    my (undef, undef, $res) = login($who, 'wrong password');
    die 'login: ' . $res->code unless $res->code == 401;
    return time - $t0;
}
sub median { my @s = sort { $a <=> $b } @_; $s[@s / 2] }
my $timed = uniq('timed') . '@example.com';   # (its own: it gets locked)
make_user($timed, 'right password');
my (@known, @unknown);
for (1 .. 5) {   # interleaved, so load on the machine hits both alike
    push @known, took($timed);
    push @unknown, took(uniq('nobody') . '@example.com');
}
my ($k, $u) = (median(@known), median(@unknown));
cmp_ok $u, '>=', 0.3 * $k,
    sprintf('unknown email %.0f ms, known %.0f ms: alike', $u * 1000,
            $k * 1000);

# the limit of hashing requests per address and minute
on_server('pchat_hashing');
my $t = time;
sleep 61 - $t % 60 if $t % 60 > 45;   # all of it inside one minute
my ($res, $data) = post_json('/api/users',
                             {email => $email, password => 'other password'});
is $res->code, 400, 'sign-up with a taken email: 400';
is $data->{errors}[0]{data}{errors}[0]{message},
   'A user with the given email is already registered.',
   'the email is taken (Payload\'s message)';
my ($token, undef, $lres) = login($email, 'right password');
is $lres->code, 200, 'a login';
my ($id) = db_query("SELECT id FROM users WHERE email = '$email'");
($res) = patch_json("/api/users/$id", {password => 'second password'},
                    Authorization => "JWT $token");
is $res->code, 200, 'a new password: the third hashing request';
my @over = (
    ['sign-up', post_json('/api/users', {email => $email,
                                         password => 'other password'})],
    ['login', (login($email, 'second password'))[2]],
    ['new password', patch_json("/api/users/$id",
                                {password => 'third password'},
                                Authorization => "JWT $token")],
    ['sign-up of a new email',
     post_json('/api/users', {email => uniq('new') . '@example.com',
                              password => 'some password'})],
);
for my $o (@over) {
    is $o->[1]->code, 429, "$o->[0] over the limit: 429";
    is $o->[1]->header('Retry-After'), 60, 'Retry-After: 60';
}

# nothing stored was lost, nothing refused was stored
on_server(undef);
($token) = login($email, 'second password');
ok $token, 'the accepted new password logs in';
($token) = login($email, 'third password');
ok !$token, 'the refused one does not';
my ($n) = db_query("SELECT COUNT(*) FROM users WHERE email = '$email'");
is $n, 1, 'one user with that email';

done_testing;
