# Members mode: A cannot read, stream, edit or delete the conversation of B
# and C by any route, including where tricks; open mode is unchanged.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use PChat::Test;
use PChat::SSE;

my $json = JSON::PP->new->utf8;
on_server('pchat_members');
my %id;
my %tok;
for my $n (qw(a b c)) {
    my $email = uniq($n) . '@example.com';
    $id{$n} = make_user($email, "password-$n");
    ($tok{$n}) = login($email, "password-$n");
}
my %as = map { $_ => {Authorization => "JWT $tok{$_}"} } keys %tok;
my $tag = uniq('mem');

# anonymous
my ($res, $data) = get_json('/api/messages');
is $res->code, 403, 'anonymous find: 403';
is $data->{errors}[0]{message}, 'You are not allowed to perform this action.',
   'Forbidden message';
($res) = get_json('/api/messages/sse');
is $res->code, 403, 'anonymous stream: 403';
for my $path ('/api/messages/sse', '/api/messages/sse/stats') {
    ($res) = api('HEAD', $path);
    is $res->code, 403, "anonymous HEAD $path: 403";
}
($res) = get_json('/api/messages/sse/stats');
is $res->code, 403, 'anonymous stream stats: 403';
($res, $data) = get_json('/api/messages/sse/stats', undef, %{$as{a}});
is $res->code, 200, 'a member reads the stream stats';
ok defined $data->{subscribers}, 'subscribers';
($res) = api('HEAD', '/api/messages/sse', undef, %{$as{a}});
is $res->code, 200, 'a member: HEAD of the stream 200';

# sending only as oneself
($res, $data) = post_json('/api/messages?depth=0',
    {sender => $id{b}, receiver => $id{c}, content => "$tag b to c"}, %{$as{b}});
is $res->code, 201, 'b writes to c';
my $bc = $data->{doc}{id};
($res) = post_json('/api/messages',
    {sender => $id{b}, receiver => $id{a}, content => "$tag forged"}, %{$as{a}});
is $res->code, 403, 'a cannot send as b';
($res, $data) = post_json('/api/messages?depth=0',
    {sender => $id{a}, receiver => $id{b}, content => "$tag a to b"}, %{$as{a}});
is $res->code, 201, 'a writes to b';
my $ab = $data->{doc}{id};

# reading
my $scope = "where[content][like]=$tag&depth=0";
($res, $data) = get_json("/api/messages?$scope", undef, %{$as{a}});
is_deeply [map { $_->{id} } @{$data->{docs}}], [$ab], 'a finds only its own';
for my $trick ("where[or][0][sender][equals]=$id{b}&where[or][1][id][greater_than]=0",
               "where[or][0][id][equals]=$bc",
               "where[sender][in]=$id{a},$id{b},$id{c}") {
    ($res, $data) = get_json("/api/messages?where[content][like]=$tag&$trick&depth=0",
                             undef, %{$as{a}});
    ok !(grep { $_->{id} == $bc } @{$data->{docs}}), "where trick: $trick";
}
($res, $data) = get_json("/api/messages/count?$scope", undef, %{$as{a}});
is $data->{totalDocs}, 1, 'count sees only its own';
($res) = get_json("/api/messages/$bc", undef, %{$as{a}});
is $res->code, 404, "find by id of b-c: 404";
($res, $data) = get_json("/api/messages/$bc?depth=1", undef, %{$as{c}});
is $res->code, 200, 'c reads it';
is_deeply [sort keys %{$data->{sender}}], [qw(collection email id)],
          'c sees b as id and email';

# editing and deleting
($res) = patch_json("/api/messages/$bc", {content => 'hacked'}, %{$as{a}});
is $res->code, 403, 'a cannot edit b-c';
($res) = patch_json("/api/messages/$bc", {content => 'hacked'}, %{$as{c}});
is $res->code, 403, 'the receiver cannot edit it either';
($res, $data) = patch_json("/api/messages?where[id][equals]=$bc",
                           {content => 'hacked'}, %{$as{a}});
is scalar @{$data->{docs}}, 0, 'a bulk edit by a touches nothing';
($res) = delete_json("/api/messages/$bc", undef, %{$as{a}});
is $res->code, 403, 'a cannot delete b-c';
($res, $data) = delete_json("/api/messages?where[id][greater_than]=0",
                            undef, %{$as{a}});
ok !(grep { $_->{id} == $bc } @{$data->{docs}}),
   'a bulk delete by a spares b-c';
($res, $data) = get_json("/api/messages/$bc?depth=0", undef, %{$as{b}});
is $data->{content}, "$tag b to c", 'b-c is untouched';

# users
($res, $data) = get_json("/api/users?where[id][in]=$id{a},$id{b}&sort=id",
                         undef, %{$as{a}});
my ($me, $other) = @{$data->{docs}};
ok exists $me->{createdAt}, 'a sees itself in full';
is_deeply [sort keys %$other], [qw(collection email id)],
          'and b as id and email (and its collection, as every user doc)';
($res) = patch_json("/api/users/$id{b}", {email => 'x' . uniq() . '@example.com'},
                    %{$as{a}});
is $res->code, 403, 'a cannot change b';
($res) = delete_json("/api/users/$id{b}", undef, %{$as{a}});
is $res->code, 403, 'or delete b';

# the stream
my $s = PChat::SSE->open("/api/messages/sse?where[content][like]=$tag&since=0",
                         %{$as{a}});
is $s->status, 200, 'a streams';
my @ev = $s->collect(3);
my @ids = map { $_->{id} } map { @{$json->decode($_->{data})} }
          grep { ($_->{event} // '') =~ /^(message|delete)$/ } @ev;
ok((grep { $_ == $ab } @ids),
   'a sees its own message (deleted by its bulk delete) in the stream');
ok !(grep { $_ == $bc } @ids), 'but never b-c';

# open mode (the main server) is unchanged
on_server(undef);
($res, $data) = get_json("/api/messages/$bc?depth=0");
is $res->code, 200, 'open mode: anyone reads';

done_testing;
