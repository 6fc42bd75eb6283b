# Hostile where, sort and query strings (issue 12): a where the server does
# not fully understand is a 400 QueryError, never a wider match; qs's own
# forms (where[or][][...], sparse indexes) mean what they mean in Payload;
# database limits are bounded with a 400 that names them; in members mode a
# field a caller cannot read cannot be queried or sorted by, and an
# anonymous caller gets the 403 before the query is looked at.  Nothing
# stored is lost.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

sub error_message {
    my ($data) = @_;
    return ref $data eq 'HASH' && ref $data->{errors} eq 'ARRAY'
        ? $data->{errors}[0]{message} // '' : '';
}

my ($ua, $ub) = (make_user(), make_user());
my $tag = uniq('strict');
my @msgs = map { make_message($ua, $ub, "$tag m$_") } 1 .. 4;
my @ids = map { $_->{id} } @msgs;
my $scope = "where[content][like]=$tag";

sub stored {   # the contents of this file's messages, as the database has them
    return join ',', db_query("SELECT content FROM messages WHERE deleted = 0"
                              . " AND content LIKE '$tag %' ORDER BY id");
}
my $all = join ',', map { "$tag m$_" } 1 .. 4;
is stored(), $all, 'four messages stored';

# ---- malformed and/or groups: 400 on every route, nothing touched --------
my @malformed = (
    'where[or]=',
    'where[and]=',
    'where[or][]=',
    'where[or][x][content][equals]=nomatch',
    'where[and][x][id][equals]=999999',
    'where[or][1001][content][equals]=nomatch',   # past qs's arrayLimit: a key
    'where[or][0]=x',
    'where[or][0][content]=nomatch',
    'where=',
    'where[]=x',
    'where[content]=nomatch',
    'where[content][like]=',        # conditions that constrain nothing
    'where[content][like]=+',
    'where[id][not_in]=',
    'where[id][all]=',
);
for my $w (@malformed) {
    my ($res, $data) = delete_json("/api/messages?$w");
    is $res->code, 400, "DELETE ?$w: 400";
    ok error_message($data), '  with a message';
    ($res) = patch_json("/api/messages?$w", {content => 'rewritten'});
    is $res->code, 400, "PATCH ?$w: 400";
    # first: qs ignores "where=" after a where (merge of an empty value)
    ($res) = get_json("/api/messages/count?$w&$scope");
    is $res->code, 400, "count ?$w: 400";
    ($res) = get_json("/api/messages?$w&$scope");
    is $res->code, 400, "find ?$w: 400";
}
is stored(), $all, 'after all of them every message is still there, unchanged';

# ---- qs's forms mean what they mean in Payload -------------------------------
my ($res, $data) = delete_json('/api/messages?where[or][][content][equals]=nomatch');
is $res->code, 200, 'where[or][][content][equals]=nomatch is an array element';
is scalar @{$data->{docs}}, 0, '  that matches nothing: nothing deleted';
is stored(), $all, '  every message still there';
($res, $data) = get_json("/api/messages?$scope&where[or][3][id][equals]=$ids[0]"
                         . "&where[or][7][id][equals]=$ids[2]&sort=id&depth=0");
is_deeply [map { $_->{id} } @{$data->{docs}}], [@ids[0, 2]],
          'sparse or indexes: both conditions, as qs compacts them';
($res, $data) = get_json("/api/messages/count?$scope&where[id][in]=");
is $data->{totalDocs}, 0, 'an empty in list matches nothing';
($res, $data) = get_json("/api/messages?$scope&where[id][in][]=$ids[1]"
                         . "&where[id][in][]=$ids[3]&sort=id&depth=0");
is_deeply [map { $_->{id} } @{$data->{docs}}], [@ids[1, 3]],
          'in[]= repeated: a list';
($res, $data) = get_json("/api/messages/count?$scope&where[or][][id][equals]="
                         . "$ids[0]&where[or][][content][like]=m1");
is $data->{totalDocs}, 1, 'two [] keys merge into one element (and), as in qs';

# ---- database limits: a 400 that names them, not a 500 ----------------------
my $words = join '+', ('x') x 1000;
($res, $data) = get_json("/api/messages?where[content][like]=$words");
is $res->code, 400, 'a like of 1,000 words: 400';
like error_message($data), qr/more than 100 words/, '  names the limit';
$words = join '+', map { "w$_" } 1 .. 100;
($res) = get_json("/api/messages?where[content][like]=$words");
is $res->code, 200, 'a like of 100 words: 200';
($res, $data) = get_json('/api/messages?sort=' . join ',', ('id') x 2600);
is $res->code, 400, 'sort naming id 2,600 times: 400';
like error_message($data), qr/sort names more than 10 fields/, '  names the limit';
($res, $data) = get_json("/api/messages?$scope&sort=content,-content,id,content&depth=0");
is $res->code, 200, 'a field repeated in sort: dropped';
is_deeply [map { $_->{id} } @{$data->{docs}}], \@ids, '  the first mention orders';
($res, $data) = get_json('/api/messages?where[id][in]=' . join ',', (1) x 501);
is $res->code, 400, 'an in list of 501 values: 400';
like error_message($data), qr/more than 500 values/, '  names the limit';
my $two = join '&', map { "where[and][$_][id][in]=" . join ',', (1) x 500 } 0, 1;
($res) = get_json("/api/messages?$two");
is $res->code, 200, 'two in lists of 500: 200';
($res, $data) = get_json("/api/messages?$two&where[and][2][id][in]=1");
is $res->code, 400, 'one value more in the where: 400';
like error_message($data), qr/more than 1000 values/, '  names the limit';
my $ors = sub { join '&', map { "where[or][$_][id][equals]=$_" } 0 .. $_[0] - 1 };
($res) = get_json("/api/messages?where[content][like]=$words&" . $ors->(100));
is $res->code, 200, '200 conditions (a like of 100 words and 100 more): 200';
($res, $data) = get_json("/api/messages?where[content][like]=$words&" . $ors->(101));
is $res->code, 400, 'like words count as conditions: 201 conditions: 400';
like error_message($data), qr/PayloadChatMaxWhereTerms/, '  names the directive';
is stored(), $all, 'every message still there';

# ---- members mode ----------------------------------------------------------
on_server('pchat_members');
my %tok;
my %id;
for my $n (qw(p q)) {
    my $email = uniq($n) . '@example.com';
    $id{$n} = make_user($email, "password-$n");
    ($tok{$n}) = login($email, "password-$n");
}
my %as = map { $_ => {Authorization => "JWT $tok{$_}"} } keys %tok;
my $mine = post_json('/api/messages?depth=0',
                     {sender => $id{p}, receiver => $id{q},
                      content => "$tag-p"}, %{$as{p}});
is $mine->code, 201, 'p writes a message';

# the 403 comes first
for my $w ('where[nosuch][equals]=1', 'where[or]=',
           'where[content][like]=' . join('+', ('x') x 1000)) {
    ($res) = get_json("/api/messages?$w");
    is $res->code, 403, "anonymous find ?$w: 403 before the where";
    ($res) = delete_json("/api/messages?$w");
    is $res->code, 403, "anonymous DELETE ?$w: 403";
    ($res) = get_json("/api/messages/sse?$w");
    is $res->code, 403, "anonymous stream ?$w: 403";
}

# a malformed where never rewrites the caller's messages
($res) = patch_json('/api/messages?where[and][x][id][equals]=999999',
                    {content => 'rewritten'}, %{$as{p}});
is $res->code, 400, 'PATCH with where[and][x]...: 400';
($res, $data) = get_json("/api/messages?where[content][like]=$tag-p&depth=0",
                         undef, %{$as{p}});
is_deeply [map { $_->{content} } @{$data->{docs}}], ["$tag-p"],
          'the message of p is unchanged';

# fields of other users p cannot read cannot be queried or sorted by
my $later = '2999-01-01T00:00:00.000Z';
for my $q ("where[id][equals]=$id{q}&where[createdAt][less_than]=$later",
           "where[or][0][id][equals]=$id{q}&where[or][1][updatedAt][exists]=true",
           'sort=createdAt', 'sort=-updatedAt') {
    ($res, $data) = get_json("/api/users/count?$q", undef, %{$as{p}});
    is $res->code, 400, "members: users ?$q: 400";
    is $data->{errors}[0]{name}, 'QueryError', '  a QueryError';
    like error_message($data), qr/cannot be queried: -?(createdAt|updatedAt)/,
         '  naming the path';
}
($res, $data) = get_json("/api/users?where[id][equals]=$id{q}&sort=email",
                         undef, %{$as{p}});
is $res->code, 200, 'id and email can be queried and sorted by';
is_deeply [map { $_->{id} } @{$data->{docs}}], [$id{q}], '  and match';
($res, $data) = get_json("/api/users?where[id][in]=$id{p},$id{q}&limit=100",
                         undef, %{$as{p}});
is_deeply [sort { $a <=> $b } map { $_->{id} } @{$data->{docs}}],
          [sort { $a <=> $b } $id{p}, $id{q}], 'the default order still works';
on_server(undef);
($res) = get_json("/api/users/count?where[createdAt][less_than]=$later&sort=createdAt");
is $res->code, 200, 'open mode: users can be queried by createdAt';

is stored(), $all, 'in the end every message is still there, unchanged';
done_testing;
