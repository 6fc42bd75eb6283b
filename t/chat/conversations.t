# GET /api/conversations: my conversations only, newest last message
# first, with unread counts that equal on two devices (two tokens), follow
# receipts and deletes; paginated; linear in the number of peers.  Members
# and open mode.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Time::HiRes qw(sleep);
use PChat::Test;
use PChat::Chat;
use PChat::Cost;

sub conversations {
    my ($who, $query) = @_;
    my ($res, $data) = get_json('/api/conversations' . ($query // ''), undef,
                                %{$who->{as}});
    die 'conversations: ' . $res->status_line unless $res->code == 200;
    return $data;
}

sub ascending { return sort { $a <=> $b } @_ }

sub by_peer {
    my ($data, $peer) = @_;
    my ($doc) = grep { $_->{peer}{id} == $peer->{id} } @{$data->{docs}};
    return $doc;
}

for my $server ('pchat_members', undef) {
    my $mode = $server ? 'members' : 'open';
    on_server($server);
    my $p = people(qw(a b c d));
    my ($a, $b, $c, $d) = @$p{qw(a b c d)};
    my ($token2) = login($a->{email}, 'password-a');
    my $a2 = {id => $a->{id}, as => {Authorization => "JWT $token2"}};

    my ($res) = get_json('/api/conversations');
    is $res->code, 403, "$mode: anonymous: 403";

    make_message($a->{id}, $c->{id}, 'a to c', %{$a->{as}});
    sleep 0.01;
    my @from_b = map { make_message($b->{id}, $a->{id}, "b to a $_", %{$b->{as}}) } 1 .. 3;
    sleep 0.01;
    make_message($b->{id}, $c->{id}, 'b to c, private', %{$b->{as}});

    my $data = conversations($a);
    is $data->{totalDocs}, 2, "$mode: a has two conversations";
    is_deeply [map { $_->{peer}{id} } @{$data->{docs}}], [$b->{id}, $c->{id}],
              "$mode: the newest first";
    my $ab = by_peer($data, $b);
    is $ab->{peer}{email}, $b->{email}, "$mode: the peer's email";
    is $ab->{lastMessage}{id}, $from_b[2]{id}, "$mode: the last message";
    is $ab->{lastMessage}{sender}, $b->{id}, "$mode: at depth 0";
    is $ab->{lastMessage}{content}, 'b to a 3', "$mode: its content";
    is $ab->{unread}, 3, "$mode: three unread";
    is $ab->{lastRead}, undef, "$mode: no receipt yet";
    is by_peer(conversations($a2), $b)->{unread}, 3, "$mode: the same on a's other device";
    is by_peer($data, $c)->{unread}, 0, "$mode: nothing unread from c";
    ok exists $data->{$_}, "$mode: envelope has $_"
        for qw(limit totalPages page pagingCounter hasPrevPage hasNextPage prevPage nextPage);

    ($res) = post_json('/api/receipts', {peer => $b->{id}, message => $from_b[1]{id}},
                       %{$a2->{as}});
    is $res->code, 201, "$mode: a reads up to the second on its other device";
    for my $dev ([$a, 'first'], [$a2, 'second']) {
        my $doc = by_peer(conversations($dev->[0]), $b);
        is $doc->{unread}, 1, "$mode: one unread on the $dev->[1] device";
        is $doc->{lastRead}, $from_b[1]{id}, "$mode: lastRead on the $dev->[1] device";
    }
    is by_peer(conversations($b), $a)->{peerLastRead}, $from_b[1]{id},
       "$mode: b sees how far a read";
    ($res) = delete_json("/api/messages/$from_b[2]{id}", undef, %{$b->{as}});
    is $res->code, 200, "$mode: b deletes its unread message";
    my $doc = by_peer(conversations($a), $b);
    is $doc->{unread}, 0, "$mode: a deleted message is not unread";
    is $doc->{lastMessage}{id}, $from_b[1]{id}, "$mode: nor the last message";

    # members leak: c and d see nothing of a and b
    $data = conversations($c);
    is_deeply [ascending(map { $_->{peer}{id} } @{$data->{docs}})],
              [ascending($a->{id}, $b->{id})], "$mode: c has its own two";
    is by_peer($data, $b)->{lastMessage}{content}, 'b to c, private',
       "$mode: c's conversation with b is theirs only";
    $data = conversations($d);
    is $data->{totalDocs}, 0, "$mode: d has none";
    is_deeply $data->{docs}, [], "$mode: no docs";

    # pages
    $data = conversations($a, '?limit=1&page=2');
    is scalar(@{$data->{docs}}), 1, "$mode: page 2 of 1";
    is $data->{docs}[0]{peer}{id}, $c->{id}, "$mode: the older conversation";
    is_deeply [@$data{qw(totalDocs totalPages page hasPrevPage hasNextPage)}],
              [2, 2, 2, JSON::PP::true, JSON::PP::false], "$mode: the page's envelope";
    ($res) = get_json('/api/conversations?limit=100000', undef, %{$a->{as}});
    is $res->code, 400, "$mode: a limit over the maximum: 400";
    ($res) = post_json('/api/conversations', {}, %{$a->{as}});
    is $res->code, 405, "$mode: POST is 405";
}

# Cost: a user with n peers and one with 4n (rows written directly).
on_server(undef);
my $p = people(qw(x y));
my $tag = uniq('cv');
my ($seq) = db_query('SELECT COALESCE(MAX(seq), 0) FROM messages');
my $now = int(Time::HiRes::time() * 1000);
my %peers_of;
for my $who ([$p->{x}, 150], [$p->{y}, 600]) {
    my ($me, $n) = @$who;
    db_exec('INSERT INTO users (email, created_at, updated_at) VALUES '
            . join(',', map { "('$tag-$me->{id}-$_\@example.com', $now, $now)" } 1 .. $n));
    my @ids = db_query("SELECT id FROM users WHERE email LIKE '$tag-$me->{id}-%'");
    db_exec('INSERT INTO messages (sender, receiver, content, ts, created_at, '
            . 'updated_at, seq) VALUES '
            . join(',', map { my $i = $_; join ',', map {
                  ++$seq; my ($s, $r) = $_ ? ($ids[$i], $me->{id}) : ($me->{id}, $ids[$i]);
                  "($s, $r, 'hello', $now, " . ($now + $i) . ", $now, $seq)" } 0, 1 }
                  0 .. $#ids));
    $peers_of{$n} = $me;
}
is conversations($p->{x}, '?limit=5')->{totalDocs}, 150, 'x has 150 conversations';
is by_peer(conversations($p->{y}, '?limit=1'), {id => 0}) // 1, 1, 'y answers';
is conversations($p->{y}, '?limit=1')->{docs}[0]{unread}, 1, "y's newest: one unread";
linear_cost('conversations of n peers', 150, sub {
    my $n = shift;
    conversations($peers_of{$n}, '?limit=20&page=2');
    return;
}, s_floor => 0.2);

done_testing;
