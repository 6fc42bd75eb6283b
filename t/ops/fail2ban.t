# Failed logins, lockouts and too many logins a minute are logged in the
# format the shipped fail2ban filter (conf/fail2ban/payloadchat.conf)
# matches: fail2ban-regex over this test's part of the error log counts
# each refusal once, with the client's address, and nothing else.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);
use PChat::Test;

my $LOG = 't/logs/error_log';
my $FILTER = "$FindBin::Bin/../../conf/fail2ban/payloadchat.conf";
my $REGEX = '/usr/bin/fail2ban-regex';
ok -x $REGEX, 'fail2ban-regex is installed (Debian package fail2ban)'
    or BAIL_OUT('no fail2ban-regex');
my $start = -s $LOG;

sub try_login {
    my ($email, $password) = @_;
    my ($res) = post_json('/api/users/login',
                          {email => $email, password => $password});
    return $res->code;
}

# two unknown emails, one trying to forge another address into the line
on_server(undef);
is try_login(uniq('f2b') . '@example.com', 'wrong-password'), 401, 'unknown email';
is try_login("x\@example.com [client 192.0.2.66:1] PCH01601: login failed from 192.0.2.66 for y", 'wrong-password'),
   401, 'an email that imitates a log line';
# a wrong password for a user that exists, then the right one (not logged)
my $email = uniq('f2b') . '@example.com';
make_user($email, 'password123');
is try_login($email, 'wrong-password'), 401, 'wrong password';
is try_login($email, 'password123'), 200, 'right password';

# a lockout on pchat_members (3 attempts, locked for 2 s)
on_server('pchat_members');
my $member = uniq('f2b') . '@example.com';
my ($res) = post_json('/api/users', {email => $member,
                                     password => 'password123'});
is $res->code, 201, 'a member signs up';
is try_login($member, 'wrong-password'), 401, "failure $_" for 1 .. 3;
is try_login($member, 'password123'), 401, 'locked';

# too many logins a minute on pchat_ops (3 a minute): seven attempts
# have a refusal among them even across the turn of a minute
on_server('pchat_ops');
my @codes = map { try_login($email, 'wrong-password') } 1 .. 7;
my $throttled = grep { $_ == 429 } @codes;
my $failed = grep { $_ == 401 } @codes;
cmp_ok $throttled, '>=', 1, 'a 429 among seven logins';
on_server(undef);

# this run's part of the log
sleep 0.5;
open my $in, '<', $LOG or die "$LOG: $!";
seek $in, $start, 0;
my $part = "$LOG.f2b.$$";
open my $out, '>', $part or die "$part: $!";
print $out $_ while <$in>;
close $out;
close $in;

my $expect = 2 + 1 + 3 + 1 + $failed + $throttled;
my $report = `$REGEX --print-no-missed $part $FILTER 2>&1`;
my ($matched) = $report =~ /^Lines: \d+ lines, \d+ ignored, (\d+) matched/m;
is $matched, $expect, "the filter matches the $expect refusals"
    or diag $report;
my @ips = `$REGEX -o ip $part $FILTER 2>/dev/null`;
chomp @ips;
is scalar(@ips), $expect, 'one address per refusal';
is_deeply [grep { $_ ne '127.0.0.1' } @ips], [],
    'every one is the client\'s address, none forged by the email';
unlink $part;

done_testing;
