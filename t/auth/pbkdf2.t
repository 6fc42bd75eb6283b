# A password hash made by Node's crypto.pbkdf2Sync with Payload's current
# parameters (and one in the legacy format) verifies here.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

my ($node) = grep { -x } map { "$_/node" } split /:/, $ENV{PATH};
ok $node, 'node is installed (the fixture needs it)';

my $js = q{
const c = require('crypto');
const salt = c.randomBytes(32).toString('hex');
const cur = 'pbkdf2-sha256-v1:' + c.pbkdf2Sync('node pass 1', salt, 600000, 32, 'sha256').toString('hex');
const legacy = c.pbkdf2Sync('node pass 2', salt, 25000, 512, 'sha256').toString('hex');
console.log([salt, cur, legacy].join(' '));
};
my ($salt, $current, $legacy) = split ' ', `"$node" -e "$js"`;
ok $salt && $current && $legacy, 'node made the fixtures';

on_server('pchat_members');
my @who;
for my $hash ($current, $legacy) {
    my $email = uniq('node') . '@example.com';
    make_user($email, 'placeholder-password');
    # store the fixture the way Payload's users table holds it
    db_exec("UPDATE users SET hash = '$hash', salt = '$salt' "
            . "WHERE email = '$email'");
    push @who, $email;
}
my ($t, $d, $res) = login($who[0], 'node pass 1');
is $res->code, 200, 'current-format hash from Node verifies';
($t, $d, $res) = login($who[1], 'node pass 2');
is $res->code, 200, 'legacy-format hash from Node verifies';
($t, $d, $res) = login($who[0], 'node pass 2');
is $res->code, 401, 'and a wrong password does not';

done_testing;
