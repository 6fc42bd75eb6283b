# Payload's lenient reading of paging values, like/contains on ids,
# relations and dates, and dotted relation paths in where and sort
# (where[sender.email][equals]=..., sort=sender.email), including what a
# member may not reach through them.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

my $tag = uniq('paths');
my @email = map { "$_-$tag\@example.com" } qw(a b c);
my @u;
# over copies: a call may clobber $_, the alias of an element
push @u, make_user($_) for map { "$_" } @email;
my @m;
push @m, make_message($u[0], $u[1], "$tag one");
push @m, make_message($u[1], $u[0], "$tag two");
push @m, make_message($u[0], $u[2], "$tag three");
push @m, make_message($u[2], $u[1], "$tag four");
my @ids = map { $_->{id} } @m;
my $scope = "where[content][like]=$tag";

sub ids_of {
    my ($query, %headers) = @_;
    my ($res, $data) = get_json("/api/messages?$scope&$query&depth=0",
                                undef, %headers);
    return ($res->code, [map { $_->{id} } @{$data->{docs} || []}], $data);
}

sub found {
    my ($query, $want, $name) = @_;
    my ($code, $got) = ids_of("$query&sort=id");
    is $code, 200, "$name: 200";
    is_deeply $got, [map { $ids[$_] } @$want], $name;
}

sub refused {
    my ($query, $name, %headers) = @_;
    my ($code, undef, $data) = ids_of($query, %headers);
    is $code, 400, "$name: 400";
    ok $data->{errors} && $data->{errors}[0]{message}, "$name: says why";
}

# ---- paging values Payload reads leniently ----------------------------------
my ($res, $data) = get_json("/api/messages?$scope&page=0&limit=2&sort=id");
is $res->code, 200, 'page=0: 200';
is $data->{page}, 1, 'page=0 is page 1';
is_deeply [map { $_->{id} } @{$data->{docs}}], [@ids[0, 1]], 'page=0: page 1 docs';
for my $page ('-1', 'abc') {
    ($res, $data) = get_json("/api/messages?$scope&page=$page&limit=2");
    is $res->code, 200, "page=$page: 200";
    is $data->{page}, 1, "page=$page is page 1";
}
for my $limit ('-1', 'abc') {
    ($res, $data) = get_json("/api/messages?$scope&limit=$limit");
    is $res->code, 200, "limit=$limit: 200";
    is $data->{limit}, 10, "limit=$limit is the default 10";
}
for my $depth ('-1', 'abc') {
    ($res, $data) = get_json("/api/messages/$ids[0]?depth=$depth");
    is $res->code, 200, "depth=$depth: 200";
    is $data->{sender}, $u[0], "depth=$depth is depth 0: the sender as its id";
}
($res) = get_json("/api/messages?$scope&depth=11");
is $res->code, 400, 'depth above 10 is still refused';

# ---- values that can match nothing: no match, never a wider one -------------
found('where[content][exists]=maybe', [], 'exists=maybe matches nothing');
found('where[id][equals]=abc', [], 'id equals abc matches nothing');
found('where[sender][equals]=abc', [], 'relation equals abc matches nothing');
found("where[or][0][id][equals]=abc&where[or][1][id][equals]=$ids[2]", [2],
      'id equals abc in an or adds nothing');
refused('where[id][not_equals]=abc', 'id not_equals abc');
refused('where[id][greater_than]=abc', 'id greater_than abc');

# ---- like/contains on ids, relations and dates ------------------------------
found("where[id][like]=$ids[1]&where[id][less_than_equal]=$ids[1]"
      . "&where[id][greater_than]=$ids[0]", [1], 'id like its own digits');
for my $op (qw(like contains)) {
    my ($code, $got) = ids_of("where[sender][$op]=$u[0]&sort=id");
    is $code, 200, "sender $op: 200";
    ok((grep { $_ == $ids[0] } @$got) && (grep { $_ == $ids[2] } @$got),
       "sender $op: the sender's messages are found");
    my %sender = map { $_->{id} => $_->{sender} } @m;
    ok !(grep { index($sender{$_}, $u[0]) < 0 } @$got),
       "sender $op: each found sender's id holds the text";
}
found("where[createdAt][contains]=$m[2]{createdAt}", [2],
      'createdAt contains a whole date: that date');
found("where[timestamp][like]=$m[1]{timestamp}", [1],
      'timestamp like a whole date: that date');
refused('where[createdAt][like]=2026', 'createdAt like a part of a date');
refused('where[createdAt][contains]=', 'createdAt contains nothing');

# ---- dotted relation paths ---------------------------------------------------
found("where[sender.email][equals]=$email[0]", [0, 2], 'sender.email equals');
found("where[receiver.email][like]=b-$tag", [0, 3], 'receiver.email like');
found("where[sender.id][equals]=$u[2]", [3], 'sender.id is sender');
found("where[receiver.id][in]=$u[0],$u[2]", [1, 2], 'receiver.id in');
found('where[sender.createdAt][greater_than]=2000-01-01T00:00:00.000Z',
      [0, 1, 2, 3], 'sender.createdAt greater_than');
found('where[sender.createdAt][less_than]=2000-01-01T00:00:00.000Z', [],
      'sender.createdAt less_than');
found("where[or][0][sender.email][equals]=$email[1]"
      . "&where[or][1][receiver.email][equals]=$email[2]", [1, 2],
      'dotted paths in an or');
my ($code, $got) = ids_of('sort=sender.email');
is $code, 200, 'sort=sender.email: 200';
is_deeply $got, [@ids[2, 0, 1, 3]], 'sort=sender.email: by email, newest first';
($code, $got) = ids_of('sort=-sender.email,id');
is_deeply $got, [@ids[3, 1, 0, 2]], 'sort=-sender.email,id';
($code, $got) = ids_of('sort=receiver.id,id');
is_deeply $got, [@ids[1, 0, 3, 2]], 'sort=receiver.id is receiver';

refused('where[sender.password][equals]=x', 'sender.password');
refused('where[sender.password][exists]=true', 'sender.password exists');
refused('where[sender.nosuch][equals]=x', 'sender.nosuch');
refused("where[sender.email.x][equals]=$email[0]", 'three segments');
refused('where[content.email][equals]=x', 'a dotted path on a text field');
refused('where[.email][equals]=x', 'an empty relation name');
refused('sort=sender.password', 'sort=sender.password');
refused('sort=sender.', 'sort=sender.');
($res, $data) = get_json("/api/messages?where[sender.nosuch][equals]=x");
is $data->{errors}[0]{name}, 'QueryError', 'an unknown dotted path is a QueryError';

# a bulk write through a dotted path touches only what it names
($res, $data) = patch_json("/api/messages?$scope&where[sender.email][equals]="
                           . "$email[2]&depth=0", {content => "$tag four!"});
is $res->code, 200, 'PATCH by sender.email: 200';
is_deeply [map { $_->{id} } @{$data->{docs}}], [$ids[3]],
    'PATCH by sender.email: only that sender\'s message';

# ---- select and populate -----------------------------------------------------
($res, $data) = get_json("/api/messages?$scope&sort=id&limit=1&depth=0"
                         . '&select[content]=true');
is $res->code, 200, 'select[content]=true: 200';
is_deeply $data->{docs}, [{id => $ids[0], content => "$tag one"}],
    'select[content]=true: id and content only';
($res, $data) = get_json("/api/messages?$scope&sort=id&limit=1&depth=0"
                         . '&select[content]=false');
is_deeply [sort keys %{$data->{docs}[0]}],
    [qw(createdAt id receiver sender timestamp updatedAt)],
    'select[content]=false: every field but content';
($res, $data) = get_json("/api/messages/$ids[1]?depth=0&select[sender]=true");
is_deeply $data, {id => $ids[1], sender => $u[1]}, 'select by id';
($res, $data) = get_json("/api/messages/$ids[1]?depth=1"
                         . '&populate[users][email]=true');
is_deeply $data->{sender},
    {id => $u[1], email => $email[1], collection => 'users'},
    'populate[users][email]=true: the user as id, email and collection';
ok exists $data->{content}, 'populate leaves the message whole';
for my $q ('select[nosuch]=true', 'select[content]=maybe', 'select=content',
           'populate[messages][content]=true', 'populate[users][password]=x') {
    ($res) = get_json("/api/messages?$scope&$q");
    is $res->code, 400, "$q: 400";
}

# ---- members: other users' hidden fields stay unreachable --------------------
on_server('pchat_members');
my %tok;
my %id;
for my $n (qw(p q)) {
    my $mail = uniq($n) . '@example.com';
    $id{$n} = make_user($mail, "password-$n");
    ($tok{$n}) = login($mail, "password-$n");
    $id{"${n}mail"} = $mail;
}
my %as = (Authorization => "JWT $tok{p}");
($res) = post_json('/api/messages?depth=0',
                   {sender => $id{p}, receiver => $id{q}, content => "$tag-m"},
                   %as);
is $res->code, 201, 'p writes to q';
$scope = "where[content][equals]=$tag-m";
($code, $got) = ids_of("where[receiver.email][equals]=$id{qmail}", %as);
is $code, 200, 'member: receiver.email may be queried';
is scalar @$got, 1, 'member: receiver.email finds the message';
($code, $got) = ids_of("where[receiver.id][equals]=$id{q}", %as);
is scalar @$got, 1, 'member: receiver.id finds the message';
for my $q ('where[receiver.createdAt][greater_than]=2000-01-01T00:00:00.000Z',
           'where[receiver.createdAt][less_than]=2000-01-01T00:00:00.000Z',
           'where[receiver.updatedAt][exists]=true',
           'where[sender.createdAt][exists]=true',
           'sort=receiver.createdAt', 'sort=-receiver.updatedAt') {
    ($code, undef, $data) = ids_of($q, %as);
    is $code, 400, "member: $q is refused (another user's hidden field)";
    is $data->{errors}[0]{name}, 'QueryError', "member: $q: QueryError";
}
($res) = get_json("/api/messages?where[receiver.email][equals]=$id{qmail}");
is $res->code, 403, 'member mode: anonymous dotted query is 403';

done_testing;
