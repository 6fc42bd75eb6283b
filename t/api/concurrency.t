# Several processes posting at once: every 201 is stored exactly once,
# nothing is lost, no 5xx.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;
use Apache::TestRequest ();

my ($writers, $each) = (8, 200);
my $alice = make_user();
my $bob = make_user();
my $tag = uniq('conc');

my @kids;
for my $w (1 .. $writers) {
    pipe(my $r, my $wr) or die "pipe: $!";
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        close $r;
        # a connection of its own, not the parent's kept-alive one
        Apache::TestRequest::user_agent(reset => 1, keep_alive => 1);
        my (@ids, $bad);
        for my $i (1 .. $each) {
            my ($res, $data) = post_json('/api/messages?depth=0',
                {sender => $alice, receiver => $bob, content => "$tag $w-$i"});
            if ($res->code == 201) {
                push @ids, $data->{doc}{id};
            }
            else {
                $bad .= $res->code . ' ';
            }
        }
        print $wr join(',', @ids), "\n", ($bad // ''), "\n";
        close $wr;
        exit 0;
    }
    close $wr;
    push @kids, [$pid, $r];
}
my (@ids, $failures);
for my $kid (@kids) {
    my ($pid, $r) = @$kid;
    my $line = <$r>;
    my $bad = <$r>;
    chomp($line, $bad);
    push @ids, split /,/, $line;
    $failures .= $bad;
    waitpid $pid, 0;
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
