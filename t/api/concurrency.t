# Several processes posting at once: every 201 is stored exactly once,
# nothing is lost, no 5xx.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

my ($writers, $each) = (8, 200);
my $alice = make_user();
my $bob = make_user();
my $tag = uniq('conc');

# each child: its ids, a tab, its non-201 codes
my (@ids, $failures);
for my $line (in_children($writers, sub {
    my $w = shift;
    my (@ids, @bad);
    for my $i (1 .. $each) {
        my ($res, $data) = post_json('/api/messages?depth=0',
            {sender => $alice, receiver => $bob, content => "$tag $w-$i"});
        if ($res->code == 201) {
            push @ids, $data->{doc}{id};
        }
        else {
            push @bad, $res->code;
        }
    }
    return join(',', @ids) . "\t@bad";
})) {
    my ($ids, $bad) = split /\t/, $line, 2;
    push @ids, split /,/, $ids;
    $failures .= ($bad // '') . ' ';
}

is scalar @ids, $writers * $each, 'every POST answered 201'
    or diag "non-201 answers: $failures";
my %seen;
$seen{$_}++ for @ids;
is scalar(keys %seen), scalar @ids, 'every id is distinct';

my ($res, $data) = get_json("/api/messages?where[content][like]=$tag"
                            . "&pagination=false&depth=0");
is $data->{totalDocs}, $writers * $each, 'every message stored';
my %stored;
$stored{$_->{id}}++ for @{$data->{docs}};
is_deeply [sort { $a <=> $b } keys %stored], [sort { $a <=> $b } @ids],
          'exactly the acknowledged ones, once each';

done_testing;
