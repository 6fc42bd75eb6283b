# Wrong passwords sent at the same moment all count (before, each wrote
# the count it had read, so 12 at once left 1 or 2): the account locks
# after PayloadChatMaxLoginAttempts (the main server: 5, locked 600 s)
# however the attempts overlap, and nothing stored about it is lost.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

on_server(undef);
my $n = 12;
my $email = uniq('race') . '@example.com';
my $id = make_user($email, 'right password');

my @answers = in_children($n, sub {
    my ($token, $data, $res) = login($email, 'wrong password');
    return $res->code . ' ' . ($data->{errors}[0]{message} // '');
});
# each is checked (wrong), refused as locked, or - on a slow machine -
# refused as busy when no hashing slot came free within 10 s
my $wrong = grep { /^401 The email or password provided is incorrect/ }
            @answers;
my $locked = grep { /^401 This user is locked/ } @answers;
my $busy = grep { /^503 / } @answers;
is $wrong + $locked + $busy, $n, "all $n answered" or diag join "\n", @answers;
cmp_ok $wrong, '>=', 2, 'several were checked at once';

my ($attempts) = db_query("SELECT login_attempts FROM users WHERE id = $id");
is $attempts, $wrong, 'every checked attempt was counted';
for ($wrong + 1 .. 5) {   # (only when the machine was too slow for five)
    login($email, 'wrong password');
}
my ($until) = db_query("SELECT lock_until FROM users WHERE id = $id");
cmp_ok $until // 0, '>', (time + 500) * 1000, 'locked for the lock time';

my ($token, $data, $res) = login($email, 'right password');
is $res->code, 401, 'locked: even the right password fails';
is $data->{errors}[0]{message},
   'This user is locked due to having too many failed login attempts.',
   'the locked message';

# nothing stored was lost: the user and its password are as they were
my ($kept) = db_query("SELECT email FROM users WHERE id = $id");
is $kept, $email, 'the user is kept';
db_exec("UPDATE users SET lock_until = NULL, login_attempts = 0 "
        . "WHERE id = $id");
($token) = login($email, 'right password');
ok $token, 'the password still logs in once unlocked';

done_testing;
