# What a where, sort or stream filter costs grows linearly with its size
# (issue 12): each input family at size n and 4n, the children's peak
# memory growth and the time within 2x of linear (PChat::Cost; a
# quadratic cost is 16x).  Sizes past the bounds must be refused as
# cheaply as they are refused (a like of 3,000 words once took 1.5 GB and
# 8 s to end in a 500; a stream with 7 in lists of 500 ids held 211 MB).
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;
use PChat::SSE;
use PChat::Cost;

my ($ua, $ub) = (make_user(), make_user());
make_message($ua, $ub, uniq('cost')) for 1 .. 3;

# One request per call; its status is kept by size.
my %status;
sub getter {
    my ($name, $query) = @_;
    return sub {
        my $n = shift;
        my $res = get_json('/api/messages?limit=1&depth=0&' . $query->($n));
        $status{$name}{$n} = $res->code;
        return;
    };
}

# Streams stay open until the case ends: each measures its own memory,
# not memory an earlier one gave back to the allocator.
my @open;
sub streamer {
    my ($name, $query) = @_;
    return sub {
        my $n = shift;
        my $s = PChat::SSE->open('/api/messages/sse?' . $query->($n));
        $status{$name}{$n} = $s->status;
        $s->next_event(5) if $s->status == 200;   # the filter is in use
        push @open, $s;
        return;
    };
}

# n ids 1,1,... in and-ed in lists of at most 500
sub in_lists {
    my $n = shift;
    my @q;
    for (my ($i, $l) = (0, 0); $i < $n; $i += 500, $l++) {
        my $k = $n - $i < 500 ? $n - $i : 500;
        push @q, "where[and][$l][id][in]=" . join ',', (1) x $k;
    }
    return join '&', @q;
}
my %family = (
    'where terms' => sub { join '&', map { "where[or][$_][id][equals]=$_" }
                                     0 .. $_[0] - 1 },
    'like words'  => sub { 'where[content][like]=' . join '+', ('x') x $_[0] },
    'in values'   => \&in_lists,
    'sort fields' => sub { 'sort=' . join ',', ('id') x $_[0] },
    'nesting'     => sub { 'where' . ('[or][0]' x $_[0]) . '[id][equals]=1' },
);

# stream filters: the memory a stream holds for its whole life (first: a
# child that served a costly request keeps that memory for later ones, so
# that their own would not show)
for my $case (['in values', 250, 200, 200], ['in values', 500, 200, 400],
              ['like words', 25, 200, 200]) {
    my ($fam, $n, $want_n, $want_4n) = @$case;
    my $name = "stream $fam ($n)";
    my ($small, $large) = linear_cost($name, $n,
                                      streamer($name, $family{$fam}),
                                      memory => 'held');
    is $status{$name}{$n}, $want_n, "$name: status at n";
    is $status{$name}{4 * $n}, $want_4n, "$name: status at 4n";
    cmp_ok $large->{held_kib}, '<', 16 * 1024,
           "$name: a stream holds less than 16 MB";
    $_->close for splice @open;
}


# [family, n, status at n, status at 4n]
my @cases = (
    ['where terms', 40, 200, 200],
    ['like words', 25, 200, 200],
    ['like words', 500, 400, 400],    # past the 100 words
    ['in values', 250, 200, 200],
    ['in values', 500, 200, 400],     # 2,000: past the 1,000 values
    ['sort fields', 2, 200, 200],
    ['sort fields', 650, 400, 400],   # past the 10 fields
    ['nesting', 1, 200, 200],
);
for my $case (@cases) {
    my ($fam, $n, $want_n, $want_4n) = @$case;
    my $name = "$fam ($n)";
    linear_cost($name, $n, getter($name, $family{$fam}));
    is $status{$name}{$n}, $want_n, "$name: status at n";
    is $status{$name}{4 * $n}, $want_4n, "$name: status at 4n";
}

done_testing;
