# Bad input of every kind: the right status, Payload's error shape, and
# nothing stored changes.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

my $alice = make_user();
my $bob = make_user();
my $kept = make_message($alice, $bob, uniq('kept'));

sub snapshot {
    my ($res, $data) = get_json('/api/messages/count');
    my ($r2, $doc) = get_json("/api/messages/$kept->{id}?depth=0");
    return [$data->{totalDocs}, $doc->{content}, $doc->{updatedAt}];
}
my $before = snapshot();

sub error_is {
    my ($res, $data, $status, $name) = @_;
    is $res->code, $status, "$name: status $status";
    ok ref $data eq 'HASH' && ref $data->{errors} eq 'ARRAY'
       && defined $data->{errors}[0]{message}, "$name: Payload error shape"
       or diag $res->content;
}

sub validation_paths {
    my ($data) = @_;
    return [sort map { $_->{path} } @{$data->{errors}[0]{data}{errors} || []}];
}

my ($res, $data) = post_json('/api/messages', '{"sender": 1,');
error_is($res, $data, 400, 'malformed JSON');
is $data->{errors}[0]{message}, 'Invalid JSON', 'Invalid JSON message';

($res, $data) = post_json('/api/messages', '[1,2]');
error_is($res, $data, 400, 'a JSON array body');

($res, $data) = post_json('/api/messages', {content => 'x'});
error_is($res, $data, 400, 'missing required fields');
is $data->{errors}[0]{name}, 'ValidationError', 'ValidationError';
is_deeply validation_paths($data), [qw(receiver sender)], 'field paths';
is $data->{errors}[0]{data}{collection}, 'messages', 'names the collection';
like $data->{errors}[0]{message}, qr/^The following fields are invalid: /,
     'plural message';

($res, $data) = post_json('/api/messages',
                          {sender => $alice, receiver => $bob});
is_deeply $data->{errors}[0], {
    name => 'ValidationError',
    data => {collection => 'messages', errors => [
        {label => 'Content', message => 'This field is required.',
         path => 'content'}]},
    message => 'The following field is invalid: Content'},
    'missing content, exactly as Payload';

($res, $data) = post_json('/api/messages',
                          {sender => $alice, receiver => $bob, content => ''});
is_deeply validation_paths($data), ['content'], 'empty content is missing';

# a number is text to Payload: stored as its digits
($res, $data) = post_json('/api/messages?depth=0',
                          {sender => $alice, receiver => $bob, content => 123});
is $res->code, 201, 'content 123 is accepted, as Payload accepts it';
is $data->{doc}{content}, '123', 'and stored as the text "123"';
delete_json("/api/messages/$data->{doc}{id}") if $data->{doc};


($res, $data) = post_json('/api/messages',
    {sender => "$alice", receiver => $bob, content => {text => 5},
     timestamp => 'yesterday'});
error_is($res, $data, 400, 'wrong types');
is_deeply validation_paths($data), [qw(content sender timestamp)],
          'each wrong type named';

($res, $data) = post_json('/api/messages',
    {sender => $alice, receiver => 999999999, content => 'x'});
error_is($res, $data, 400, 'nonexistent relation');
is_deeply validation_paths($data), ['receiver'], 'on the receiver';
my $gone_tag = uniq('gone');
($res, $data) = post_json('/api/messages',
    {sender => 999999998, receiver => 999999999, content => $gone_tag});
error_is($res, $data, 400, 'two nonexistent relations');
is_deeply validation_paths($data), [qw(receiver sender)], 'both named';
($res, $data) = get_json("/api/messages/count?where[content][equals]=$gone_tag");
is $data->{totalDocs}, 0, 'nothing stored';

($res, $data) = post_json('/api/messages',
    {sender => $alice, receiver => $bob, content => 'x', colour => 'red'});
error_is($res, $data, 400, 'unknown body field');
is_deeply validation_paths($data), ['colour'], 'the unknown field is named';

($res, $data) = get_json('/api/messages?where[nosuch][equals]=1');
error_is($res, $data, 400, 'unknown where field');
is_deeply $data->{errors}[0], {
    name => 'QueryError', data => [{path => 'nosuch'}],
    message => 'The following path cannot be queried: nosuch'},
    'QueryError, exactly as Payload';

($res, $data) = get_json('/api/messages?where[content][resembles]=x');
error_is($res, $data, 400, 'unknown operator');

($res, $data) = get_json('/api/users?where[password][equals]=x');
error_is($res, $data, 400, 'hidden fields cannot be queried');

($res, $data) = get_json('/api/messages?sort=nosuch');
error_is($res, $data, 400, 'unknown sort field');

($res, $data) = get_json('/api/messages?where[id][greater_than]=abc');
error_is($res, $data, 400, 'non-numeric value for an id');

($res, $data) = get_json('/api/messages?limit=100000');
error_is($res, $data, 400, 'limit above PayloadChatMaxLimit');
($res, $data) = get_json('/api/messages?depth=11');
error_is($res, $data, 400, 'depth above 10');

($res, $data) = get_json('/api/messages/abc');
error_is($res, $data, 404, 'non-numeric id');
($res, $data) = get_json('/api/messages/999999999');
error_is($res, $data, 404, 'absent id');
($res, $data) = get_json('/api/nosuch');
is $res->code, 404, 'unknown collection: 404';
is_deeply $data, {message => 'Route not found "/api/nosuch"'},
    "unknown collection: Payload's answer for a path it has no route for";
($res, $data) = get_json('/api/messages/1/2/3');
is_deeply $data, {message => 'Route not found "/api/messages/1/2/3"'},
    'too deep a path: no route';

($res, $data) = api('PUT', "/api/messages/$kept->{id}", {content => 'x'});
error_is($res, $data, 405, 'wrong method');
like $res->header('Allow'), qr/\bGET\b.*\bPATCH\b.*\bDELETE\b/, 'Allow lists the methods';
($res, $data) = api('POST', '/api/messages/count', {});
is $res->code, 405, 'POST on count is 405';

($res, $data) = post_json('/api/messages',
    {sender => $alice, receiver => $bob, content => 'x' x 70000});
error_is($res, $data, 413, 'body over PayloadChatMaxBodySize');

($res, $data) = patch_json('/api/messages', {content => 'all gone'});
error_is($res, $data, 400, 'bulk update without where');
($res, $data) = delete_json('/api/messages');
error_is($res, $data, 400, 'bulk delete without where');

($res, $data) = patch_json("/api/messages/$kept->{id}", {content => ''});
error_is($res, $data, 400, 'update to empty content');
($res, $data) = patch_json("/api/messages/$kept->{id}", {sender => 999999999});
error_is($res, $data, 400, 'update to a nonexistent relation');

# users
my $email = uniq('dup') . '@example.com';
make_user($email);
($res, $data) = post_json('/api/users',
                          {email => uc($email), password => 'password123'});
error_is($res, $data, 400, 'duplicate email (any case)');
is $data->{errors}[0]{data}{errors}[0]{message},
   'A user with the given email is already registered.', 'unique message';
($res, $data) = post_json('/api/users',
                          {email => 'not-an-email', password => 'password123'});
error_is($res, $data, 400, 'invalid email');
is $data->{errors}[0]{data}{errors}[0]{message},
   'Please enter a valid email address.', 'invalid email message';
($res, $data) = post_json('/api/users', {email => uniq('np') . '@example.com'});
is_deeply validation_paths($data), ['password'], 'password required';

is_deeply snapshot(), $before, 'nothing stored changed';

# a user who still has messages stays, and so do the messages
my $keeper_email = uniq('keeper') . '@example.com';
my $keeper = make_user($keeper_email);
my $held = make_message($keeper, $bob, uniq('held'));
my ($keeper_token) = login($keeper_email, 'password123');
($res, $data) = delete_json("/api/users/$keeper", undef,
                            Authorization => "JWT $keeper_token");
is $res->code, 409, 'deleting a user with messages: 409';
like $data->{errors}[0]{message}, qr/still sends or receives messages/,
     'which says why';
($res) = get_json("/api/users/$keeper");
is $res->code, 200, 'the user is still there';
($res, $data) = get_json("/api/messages/$held->{id}?depth=0");
is $data->{sender}, $keeper, 'and the message still names them';

done_testing;
