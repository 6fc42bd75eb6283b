# The configurable limits (a virtual host with small ones): each refuses
# with a clear error in Payload's shape and the right status, and nothing
# stored is lost.  Also the security headers of API answers.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;
use PChat::SSE;

# users are made on the main server: a sign-up hashes a password, which
# counts against this host's PayloadChatMaxLoginsPerMinute
on_server(undef);
my ($a, $b) = (make_user(), make_user());
my $email = uniq('limit') . '@example.com';
make_user($email, 'password123');
on_server('pchat_limits');

sub error_message {
    my ($data) = @_;
    return ref $data eq 'HASH' && ref $data->{errors} eq 'ARRAY'
        ? $data->{errors}[0]{message} // '' : '';
}

my $kept = make_message($a, $b, uniq('kept'));

# where nesting: two levels pass, three are refused
my ($res, $data) = get_json('/api/messages?where[or][0][and][0][id][equals]=1');
is $res->code, 200, 'where nested two levels deep is fine';
($res, $data) = get_json('/api/messages?where[or][0][and][0][or][0][id][equals]=1');
is $res->code, 400, 'three levels: 400';
like error_message($data), qr/nested more than 2 levels/, 'says how deep';

# where terms: three pass, four are refused
my $q = join '&', map { "where[or][$_][id][equals]=$_" } 0 .. 2;
($res) = get_json("/api/messages?$q");
is $res->code, 200, 'three conditions are fine';
$q = join '&', map { "where[or][$_][id][equals]=$_" } 0 .. 3;
($res, $data) = get_json("/api/messages?$q");
is $res->code, 400, 'four conditions: 400';
like error_message($data), qr/more than 3 conditions/, 'says how many';

# limit ceiling
($res) = get_json('/api/messages?limit=5');
is $res->code, 200, 'limit at the ceiling is fine';
($res, $data) = get_json('/api/messages?limit=6');
is $res->code, 400, 'limit above the ceiling: 400';
like error_message($data), qr/limit/i, 'names limit';

# body size
($res, $data) = post_json('/api/messages',
                          {sender => $a, receiver => $b, content => 'x' x 2000});
is $res->code, 413, 'a body over 1024 bytes: 413';
ok error_message($data), 'with a message';

# streams per client address
my @streams = map { PChat::SSE->open('/api/messages/sse') } 1 .. 2;
is_deeply [map { $_->status } @streams], [200, 200], 'two streams open';
my $third = PChat::SSE->open('/api/messages/sse');
is $third->status, 429, 'a third from the same address: 429';
ok $third->header('Retry-After'), 'with Retry-After';
$third->close;
$_->close for @streams;
my $again;
for (1 .. 30) {   # the server notices the closed streams within a second
    select undef, undef, undef, 0.2;
    $again = PChat::SSE->open('/api/messages/sse');
    last if $again->status == 200;
    $again->close;
}
is $again->status, 200, 'closed streams give their places back';
$again->close;

# login attempts per address and minute
my @codes = map { (login($email, 'wrong-password'))[2]->code } 1 .. 3;
is_deeply \@codes, [401, 401, 401], 'three attempts are answered';
my ($t, $d, $r4) = login($email, 'password123');
is $r4->code, 429, 'the fourth in the minute: 429, even with the right password';
like error_message($d), qr/Too many login attempts/, 'says why';
is $r4->header('Retry-After'), 60, 'Retry-After: 60';

# security headers on API answers, success and error alike
for my $path ('/api/messages?limit=1', '/api/messages/nope') {
    my $r = get_json($path);
    is $r->header('X-Content-Type-Options'), 'nosniff', "$path: nosniff";
    is $r->header('X-Frame-Options'), 'DENY', "$path: X-Frame-Options";
    like $r->header('Content-Security-Policy') // '', qr/default-src 'none'/,
         "$path: CSP";
    is $r->header('Cache-Control'), 'no-store', "$path: no-store";
    is $r->header('Referrer-Policy'), 'no-referrer', "$path: Referrer-Policy";
}

# nothing that was stored is lost
($res, $data) = get_json("/api/messages/$kept->{id}?depth=0");
is $res->code, 200, 'the message stored before is intact';
is $data->{content}, $kept->{content}, 'with its content';

done_testing;
