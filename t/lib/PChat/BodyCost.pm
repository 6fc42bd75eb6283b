package PChat::BodyCost;
# What one request costs the test server: the wall time and the largest
# growth of a child's resident memory while it ran (its peak, VmHWM, reset
# beforehand through /proc/PID/clear_refs), and a check that the cost of
# size 4n stays within a linear bound of the cost of size n.  A quadratic
# cost is 16 times at 4n; the bound allows 8 times the time and 6 times the
# memory, plus a fixed slack, so noise on a loaded machine does not fail it.
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use Apache::Test ();
use Time::HiRes ();
use Test::More;

our @EXPORT = qw(children child_rss largest_child_rss cost_of linear_cost
                 sanitized);

# The server under the sanitizers (the PostgreSQL pass) uses more memory
# per allocation and keeps freed memory in quarantine.
sub sanitized { ($ENV{PCHAT_MODULE} // '') =~ m{/asan/} }

# The pids of the test server's children.
sub children {
    my $pidfile = Apache::Test::vars('t_logs') . '/httpd.pid';
    open my $fh, '<', $pidfile or die "$pidfile: $!";
    chomp(my $parent = <$fh> // '');
    my @kids;
    for my $dir (glob '/proc/[0-9]*') {
        open my $st, '<', "$dir/status" or next;
        while (<$st>) {
            if (/^PPid:\s+(\d+)/) {
                push @kids, (split m{/}, $dir)[-1] if $1 == $parent;
                last;
            }
        }
    }
    return @kids;
}

# kB of one field of /proc/PID/status (VmRSS, VmHWM), 0 when gone.
sub _status_kb {
    my ($pid, $field) = @_;
    open my $st, '<', "/proc/$pid/status" or return 0;
    while (<$st>) {
        return $1 if /^\Q$field\E:\s+(\d+)/;
    }
    return 0;
}

# The children's resident memory, in kB, summed.
sub child_rss {
    my $sum = 0;
    $sum += _status_kb($_, 'VmRSS') for children();
    return $sum;
}

# The resident memory of the largest child, in kB: unlike the sum, it does
# not grow when prefork starts more children for more streams.
sub largest_child_rss {
    my $max = 0;
    for (children()) {
        my $kb = _status_kb($_, 'VmRSS');
        $max = $kb if $kb > $max;
    }
    return $max;
}

# Runs $code; returns (seconds, kB): the time it took and the largest peak
# growth of one child's memory meanwhile.
sub cost_of {
    my ($code) = @_;
    my %before;
    for my $pid (children()) {
        # "5" resets the peak to the current size (needs root or the owner)
        if (open my $cr, '>', "/proc/$pid/clear_refs") {
            print $cr "5\n";
            close $cr;
        }
        $before{$pid} = _status_kb($pid, 'VmRSS');
    }
    my $t0 = Time::HiRes::time();
    $code->();
    my $secs = Time::HiRes::time() - $t0;
    my $grow = 0;
    for my $pid (keys %before) {
        my $g = _status_kb($pid, 'VmHWM') - $before{$pid};
        $grow = $g if $g > $grow;
    }
    return ($secs, $grow);
}

# linear_cost($name, $n, $send): $send->($size) sends one request of that
# size (and checks its answer); it runs for n and 4n, each twice (the
# shorter time counts, so one descheduled run does not fail it; the larger
# growth, since the second run may reuse what the first left in the child),
# and the time and the memory growth at 4n must stay within 8 and 6 times
# those at n plus a slack.
sub linear_cost {
    my ($name, $n, $send) = @_;
    my @cost;
    for my $size ($n, 4 * $n) {
        my ($t, $m);
        for (1 .. 2) {
            my ($t1, $m1) = cost_of(sub { $send->($size) });
            $t = $t1 if !defined $t || $t1 < $t;
            $m = $m1 if !defined $m || $m1 > $m;
        }
        push @cost, [$t, $m];
    }
    my ($slack_s, $slack_kb) = sanitized() ? (3, 32 * 1024) : (1.5, 16 * 1024);
    my ($small, $big) = @cost;
    note sprintf "%s: n=%d %.3f s %d kB, 4n %.3f s %d kB", $name, $n,
                 @$small, @$big;
    cmp_ok $big->[0], '<=', 8 * $small->[0] + $slack_s,
           "$name: time at 4n within a linear bound of n";
    cmp_ok $big->[1], '<=', 6 * $small->[1] + $slack_kb,
           "$name: memory at 4n within a linear bound of n";
    return @cost;
}

1;
