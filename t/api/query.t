# The query language: every where operator, and/or, sort, paging, depth.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

my ($u1, $u2, $u3) = (make_user(), make_user(), make_user());
my $tag = uniq('q');
my @m;
push @m, make_message($u1, $u2, "$tag alpha one");
push @m, make_message($u2, $u1, "$tag beta two");
push @m, make_message($u1, $u3, "$tag gamma three");
push @m, make_message($u3, $u2, "$tag delta four");
my @ids = map { $_->{id} } @m;
my $scope = "where[content][like]=$tag";

sub ids_of {
    my ($query) = @_;
    my ($res, $data) = get_json("/api/messages?$scope&$query&depth=0&sort=id");
    return ($res->code, [map { $_->{id} } @{$data->{docs} || []}]);
}

sub found {
    my ($query, $want, $name) = @_;
    my ($code, $got) = ids_of($query);
    is $code, 200, "$name: 200";
    is_deeply $got, [map { $ids[$_] } @$want], $name;
}

found("where[sender][equals]=$u1", [0, 2], 'equals');
found("where[sender][not_equals]=$u1", [1, 3], 'not_equals');
found("where[id][greater_than]=$ids[1]", [2, 3], 'greater_than');
found("where[id][greater_than_equal]=$ids[1]", [1, 2, 3], 'greater_than_equal');
found("where[id][less_than]=$ids[1]", [0], 'less_than');
found("where[id][less_than_equal]=$ids[1]", [0, 1], 'less_than_equal');
found("where[receiver][in]=$u3,$u1", [1, 2], 'in (comma list)');
found("where[receiver][in][0]=$u3&where[receiver][in][1]=$u1", [1, 2],
      'in (array)');
found("where[receiver][not_in]=$u2", [1, 2], 'not_in');
found("where[and][0][content][like]=FOUR%20DELTA", [3],
      'like: every word, any case');
found("where[and][0][content][like]=four%20alpha", [],
      'like: all words must match');
found("where[content][contains]=MMA%20thr", [2],
      'contains: substring, any case');
found("where[content][exists]=true", [0, 1, 2, 3], 'exists true');
found("where[content][exists]=false", [], 'exists false');
found("where[or][0][sender][equals]=$u3&where[or][1][receiver][equals]=$u3",
      [2, 3], 'or');
found("where[and][0][sender][equals]=$u1&where[and][1][receiver][equals]=$u3",
      [2], 'and');
found("where[or][0][and][0][sender][equals]=$u1&where[or][0][and][1][receiver][equals]=$u2"
      . "&where[or][1][sender][equals]=$u3", [0, 3], 'nested and inside or');
found("where[createdAt][greater_than]=2000-01-01T00:00:00.000Z", [0, 1, 2, 3],
      'dates compare');
found("where[and][0][content][contains]=%25", [],
      'LIKE wildcards are literal');
found("where[and][0][content][contains]=_", [], 'so is _');

# sort
my ($res, $data) = get_json("/api/messages?$scope&sort=-id&depth=0");
is_deeply [map { $_->{id} } @{$data->{docs}}], [reverse @ids], 'sort -id';
($res, $data) = get_json("/api/messages?$scope&sort=sender,-id&depth=0");
my @want = map { $ids[$_] }
           sort { $m[$a]{sender} <=> $m[$b]{sender} || $ids[$b] <=> $ids[$a] }
           0 .. 3;
is_deeply [map { $_->{id} } @{$data->{docs}}], \@want, 'sort by two fields';

# paging
($res, $data) = get_json("/api/messages?$scope&limit=3&page=1&sort=id&depth=0");
is scalar @{$data->{docs}}, 3, 'limit 3';
is $data->{totalPages}, 2, 'two pages';
ok $data->{hasNextPage}, 'has a next page';
is $data->{nextPage}, 2, 'nextPage';
is $data->{pagingCounter}, 1, 'pagingCounter of page 1';
($res, $data) = get_json("/api/messages?$scope&limit=3&page=2&sort=id&depth=0");
is_deeply [map { $_->{id} } @{$data->{docs}}], [$ids[3]], 'last page';
ok $data->{hasPrevPage} && !$data->{hasNextPage}, 'last page flags';
is $data->{prevPage}, 1, 'prevPage';
is $data->{pagingCounter}, 4, 'pagingCounter of page 2';
($res, $data) = get_json("/api/messages?$scope&limit=3&page=5&depth=0");
is_deeply $data->{docs}, [], 'page beyond the last is empty';
is $data->{totalDocs}, 4, 'with the right total';
($res, $data) = get_json("/api/messages?$scope&limit=50&depth=0");
is scalar @{$data->{docs}}, 4, 'limit beyond total';
is $data->{totalPages}, 1, 'one page';
($res, $data) = get_json("/api/messages?$scope&pagination=false&depth=0");
is scalar @{$data->{docs}}, 4, 'pagination=false returns all';
($res, $data) = get_json("/api/messages?where[content][equals]=" . uniq('none'));
is $data->{totalDocs}, 0, 'empty result';
is_deeply $data->{docs}, [], 'no docs';
is $data->{totalPages}, 1, 'empty result has one page';

# depth
($res, $data) = get_json("/api/messages?$scope&depth=0&limit=1");
like $data->{docs}[0]{sender}, qr/^\d+$/, 'depth 0: ids';
($res, $data) = get_json("/api/messages?$scope&depth=1&limit=1");
is ref $data->{docs}[0]{sender}, 'HASH', 'depth 1: user docs';
is $data->{docs}[0]{sender}{collection}, 'users', 'with their collection';

# users are queried the same way
($res, $data) = get_json("/api/users?where[id][in]=$u1,$u2&sort=id");
is_deeply [map { $_->{id} } @{$data->{docs}}], [$u1, $u2], 'users find';

done_testing;
