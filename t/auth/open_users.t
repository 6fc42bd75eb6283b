# Open mode: messages are open to anyone and users are listed to anyone,
# but a user is changed or deleted only by itself, logged in (Payload's
# auth collection) - by id or by a bulk `where` alike.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

on_server(undef);
my (%email, %id);
for my $n ('a', 'b') {
    $email{$n} = uniq($n) . '@example.com';
    $id{$n} = make_user($email{$n}, "password-$n");
}
my ($tok_a) = login($email{a}, 'password-a');
my %as_a = (Authorization => "JWT $tok_a");

# what stays open
my ($res, $data) = get_json("/api/users?where[id][in]=$id{a},$id{b}&sort=id");
is $res->code, 200, 'anyone lists users';
is_deeply [map { [$_->{id}, $_->{email}] } @{$data->{docs}}],
          [[$id{a}, $email{a}], [$id{b}, $email{b}]], 'with id and email';
($res) = post_json('/api/messages', {sender => $id{b}, receiver => $id{a},
                                     content => uniq('open')});
is $res->code, 201, 'anyone sends a message';

# what does not
my @tries = (
    ['anonymous PATCH by id', 'PATCH', "/api/users/$id{b}",
     {password => 'taken over'}],
    ['anonymous PATCH by where', 'PATCH', "/api/users?where[id][equals]=$id{b}",
     {password => 'taken over'}],
    ['anonymous DELETE by id', 'DELETE', "/api/users/$id{b}"],
    ['anonymous DELETE by where', 'DELETE',
     "/api/users?where[id][equals]=$id{b}"],
    ['a changes b', 'PATCH', "/api/users/$id{b}", {password => 'taken over'},
     %as_a],
    ['a deletes b', 'DELETE', "/api/users/$id{b}", undef, %as_a],
);
for my $t (@tries) {
    my ($name, $method, $path, $body, %h) = @$t;
    ($res, $data) = api($method, $path, $body, %h);
    is $res->code, 403, "$name: 403";
    is $data->{errors}[0]{message},
       'You are not allowed to perform this action.', "$name: Forbidden";
}
($res, $data) = api('PATCH', "/api/users?where[id][in]=$id{a},$id{b}",
                    {password => 'taken over'}, %as_a);
is_deeply [map { $_->{id} } @{$data->{docs}}], [$id{a}],
          'a bulk PATCH by a changes a only';

# nothing stored was lost
my ($t) = login($email{b}, 'password-b');
ok $t, 'b keeps its password';
($t) = login($email{b}, 'taken over');
ok !$t, 'the refused password does not log in';
($res, $data) = get_json("/api/users/$id{b}");
is $data->{email}, $email{b}, 'b is still there';

# a user changes and deletes itself
($tok_a) = login($email{a}, 'taken over');
%as_a = (Authorization => "JWT $tok_a");
($res) = patch_json("/api/users/$id{a}", {password => 'password-a2'}, %as_a);
is $res->code, 200, 'a changes its own password';
($t) = login($email{a}, 'password-a2');
ok $t, 'which logs in';
# (a user who still has messages is not deleted: those go first)
($res) = delete_json("/api/messages?where[or][0][sender][equals]=$id{a}"
                     . "&where[or][1][receiver][equals]=$id{a}", undef, %as_a);
is $res->code, 200, 'a\'s messages are deleted';
($res) = delete_json("/api/users/$id{a}", undef, %as_a);
is $res->code, 200, 'a deletes itself';

done_testing;
