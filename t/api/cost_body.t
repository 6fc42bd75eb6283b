# The cost of a request body grows linearly with its size, for every way a
# body can grow: unknown keys (each a validation error), one long string,
# escapes, padding, JSON nesting, array elements.  Each family is sent at
# size n and 4n; the time and the children's peak memory growth at 4n must
# stay within a linear bound of those at n (PChat::BodyCost).  The bodies
# stay under the test server's 64 KB body limit.  Nothing stored changes
# but what the accepted bodies create.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use PChat::Test;
use PChat::BodyCost;

my $json = JSON::PP->new->canonical;
my ($alice, $bob) = (make_user(), make_user());
my $kept = make_message($alice, $bob, uniq('kept'));
my $created = 0;

sub total {
    my (undef, $data) = get_json('/api/messages/count');
    return $data->{totalDocs};
}
my $before = total();

# { "1": 1, "2": 1, ... } with n keys (hex names keep it short)
sub many_keys {
    my ($n, %known) = @_;
    return '{' . join(',', (map { sprintf '"%x":1', $_ } 1 .. $n),
                      map { "\"$_\":" . $json->encode($known{$_}) }
                      sort keys %known) . '}';
}

sub status_is {
    my ($res, $status, $what) = @_;
    return if $res->code == $status;
    fail "$what: status $status";
    diag $res->status_line . ' ' . substr($res->content, 0, 300);
}

# 1. unknown keys: every one is reported (Payload lists them all)
my ($res, $data) = post_json('/api/messages', many_keys(3));
is $res->code, 400, 'three unknown keys: 400';
is scalar(grep { $_->{message} eq 'This field does not exist.' }
          @{$data->{errors}[0]{data}{errors} || []}), 3,
   'each unknown key is listed';
like $data->{errors}[0]{message}, qr/^The following fields are invalid: .*1, 2, 3/,
     'and named in the message';

linear_cost('unknown keys in POST /api/messages', 1500, sub {
    my $n = shift;
    my ($res, $data) = post_json('/api/messages', many_keys($n));
    status_is($res, 400, "$n unknown keys");
    my $listed = () = ($data->{errors}[0]{message} // '') =~ /, /g;
    is $listed + 1, $n + 3, "$n unknown keys: all named"
        or diag substr($res->content, 0, 300);
});

linear_cost('unknown keys in PATCH /api/messages/:id', 1500, sub {
    my $n = shift;
    my ($res) = patch_json("/api/messages/$kept->{id}",
                           many_keys($n, content => 'changed'));
    status_is($res, 400, "PATCH with $n unknown keys");
});

# 2. one long string, stored
linear_cost('a long message', 12000, sub {
    my $n = shift;
    my ($res) = post_json('/api/messages', {sender => $alice, receiver => $bob,
                                            content => 'x' x $n});
    status_is($res, 201, "a message of $n bytes");
    $created++;
});

# 3. escapes: six bytes of body for each character
linear_cost('an escaped message', 2000, sub {
    my $n = shift;
    my $body = sprintf '{"sender":%d,"receiver":%d,"content":"%s"}', $alice,
                       $bob, '\u00e9' x $n;
    my ($res, $data) = post_json('/api/messages', $body);
    status_is($res, 201, "a message of $n escapes");
    is length($data->{doc}{content} // ''), $n, "$n escapes: stored whole";
    $created++;
});

# 4. padding between the tokens
linear_cost('whitespace', 12000, sub {
    my $n = shift;
    my $body = sprintf '{"sender":%d,%s"receiver":%d,"content":"pad"}', $alice,
                       ' ' x $n, $bob;
    my ($res) = post_json('/api/messages', $body);
    status_is($res, 201, "$n bytes of padding");
    $created++;
});

# 5. nesting
linear_cost('JSON nesting', 400, sub {
    my $n = shift;
    my $body = sprintf '{"sender":%d,"receiver":%d,"content":%s1%s}', $alice,
                       $bob, '[' x $n, ']' x $n;
    my ($res) = post_json('/api/messages', $body);
    status_is($res, 400, "content nested $n deep");
});
linear_cost('JSON nesting of an unknown key', 400, sub {
    my $n = shift;
    my ($res) = post_json('/api/messages',
                          '{"x":' . ('{"a":' x $n) . '1' . ('}' x $n) . '}');
    status_is($res, 400, "an unknown key nested $n deep");
});

# 6. array elements
linear_cost('array elements', 5000, sub {
    my $n = shift;
    my $body = sprintf '{"sender":%d,"receiver":%d,"content":[%s]}', $alice,
                       $bob, join ',', (0) x $n;
    my ($res) = post_json('/api/messages', $body);
    status_is($res, 400, "content of $n elements");
});

is total(), $before + $created, 'only the accepted bodies added messages';
my (undef, $doc) = get_json("/api/messages/$kept->{id}?depth=0");
is $doc->{content}, $kept->{content}, 'the kept message is unchanged';

# 7. members mode: an anonymous sign-up with many unknown keys
on_server('pchat_members');
linear_cost('unknown keys in an anonymous POST /api/users', 1500, sub {
    my $n = shift;
    my ($res) = post_json('/api/users',
                          many_keys($n, email => uniq('k') . '@example.com',
                                    password => 'password123'));
    status_is($res, 400, "sign-up with $n unknown keys");
});
on_server(undef);

done_testing();
