# Create, find, find by id, count, update and delete: Payload's shapes.
use strict;
use warnings FATAL => 'all';
use utf8;
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

my $iso = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
my $alice = make_user();
my $bob = make_user();
my $tag = uniq('crud');

# create
my ($res, $data) = post_json('/api/messages',
    {sender => $alice, receiver => $bob, content => "$tag hello"});
is $res->code, 201, 'create answers 201';
is $res->header('Content-Type'), 'application/json; charset=utf-8',
   'JSON content type';
is $res->header('X-Content-Type-Options'), 'nosniff', 'nosniff header';
is $data->{message}, 'Message successfully created.', 'create message';
my $doc = $data->{doc};
like $doc->{id}, qr/^\d+$/, 'numeric id';
is $doc->{content}, "$tag hello", 'content stored';
is ref $doc->{sender}, 'HASH', 'default depth populates the sender';
is $doc->{sender}{id}, $alice, 'populated sender id';
is $doc->{sender}{collection}, 'users', 'populated user names its collection';
ok !exists $doc->{sender}{$_}, "populated user has no $_"
    for qw(password hash salt loginAttempts);
like $doc->{$_}, $iso, "$_ is ISO-8601 with milliseconds"
    for qw(timestamp createdAt updatedAt);
is_deeply [sort keys %$doc],
          [sort qw(id sender receiver content timestamp createdAt updatedAt)],
          'message fields';

# an explicit timestamp is normalised to UTC with milliseconds
($res, $data) = post_json('/api/messages?depth=0',
    {sender => $alice, receiver => {id => $bob}, content => "$tag second",
     timestamp => '2026-01-02T03:04:05+01:00'});
is $res->code, 201, 'create with a timestamp and {id} relation';
is $data->{doc}{timestamp}, '2026-01-02T02:04:05.000Z', 'timestamp normalised';
is $data->{doc}{receiver}, $bob, 'depth=0 returns relation ids';
my $second = $data->{doc}{id};

# unicode round trip
my $uni = "$tag ünïcødé 😀 漢字 e\x{301}";
($res, $data) = post_json('/api/messages?depth=0',
    {sender => $bob, receiver => $alice, content => $uni});
is $data->{doc}{content}, $uni, 'unicode survives create';
($res, $data) = get_json("/api/messages/$data->{doc}{id}?depth=0");
is $data->{content}, $uni, 'unicode survives a read';

# find by id
($res, $data) = get_json("/api/messages/$doc->{id}");
is $res->code, 200, 'find by id';
is $data->{id}, $doc->{id}, 'the right doc';
is $data->{receiver}{id}, $bob, 'find by id populates at default depth';
($res, $data) = get_json("/api/messages/$doc->{id}?depth=1");
is ref $data->{receiver}, 'HASH', 'depth=1 populates';

# find, paginated envelope
($res, $data) = get_json("/api/messages?where[content][like]=$tag&depth=0");
is $res->code, 200, 'find';
is_deeply [sort keys %$data],
          [sort qw(docs totalDocs limit totalPages page pagingCounter
                   hasPrevPage hasNextPage prevPage nextPage)],
          'paginated envelope keys';
is $data->{totalDocs}, 3, 'all three found';
is $data->{limit}, 10, 'default limit 10';
is $data->{page}, 1, 'page 1';
is $data->{docs}[0]{content}, $uni, 'default sort is -createdAt';
ok !$data->{hasNextPage} && !$data->{hasPrevPage}, 'single page';
ok !defined $data->{nextPage} && !defined $data->{prevPage},
   'no next or previous page';

# count
($res, $data) = get_json("/api/messages/count?where[content][like]=$tag");
is_deeply $data, {totalDocs => 3}, 'count';

# update by id
($res, $data) = patch_json("/api/messages/$second?depth=0",
                           {content => "$tag edited"});
is $res->code, 200, 'update by id';
is $data->{message}, 'Updated successfully.', 'update message';
is $data->{doc}{content}, "$tag edited", 'content updated';
is $data->{doc}{sender}, $alice, 'other fields kept';
ok $data->{doc}{updatedAt} ge $data->{doc}{createdAt}, 'updatedAt moved';

# update by where
($res, $data) = patch_json(
    "/api/messages?where[content][like]=$tag&where[sender][equals]=$alice&depth=0",
    {content => "$tag bulk"});
is $res->code, 200, 'update by where';
is scalar @{$data->{docs}}, 2, 'two docs updated';
is_deeply $data->{errors}, [], 'no errors';
is $data->{message}, 'Updated 2 Messages successfully.', 'bulk update message';

# delete by id
($res, $data) = delete_json("/api/messages/$second?depth=0");
is $res->code, 200, 'delete by id';
is $data->{message}, 'Deleted successfully.', 'delete message';
is $data->{doc}{id}, $second, 'deleted doc returned';
($res, $data) = get_json("/api/messages/$second");
is $res->code, 404, 'deleted doc is gone';
is_deeply $data, {errors => [{message => 'Not Found'}]}, 'Not Found shape';
($res) = delete_json("/api/messages/$second");
is $res->code, 404, 'deleting twice is 404';

# delete by where
($res, $data) = delete_json("/api/messages?where[content][like]=$tag&depth=0");
is $res->code, 200, 'delete by where';
is scalar @{$data->{docs}}, 2, 'the other two deleted';
is $data->{message}, 'Deleted 2 Messages successfully.', 'bulk delete message';
($res, $data) = get_json("/api/messages/count?where[content][like]=$tag");
is $data->{totalDocs}, 0, 'none left';

# users never show secrets
($res, $data) = get_json("/api/users/$alice");
is $res->code, 200, 'user by id';
ok !exists $data->{$_}, "user has no $_" for qw(password hash salt);
like $data->{email}, qr/\@example\.com$/, 'email shown';

done_testing;
