package PChat::Cost;
# What a request costs the test server: wall time, and the memory of its
# Apache children (summed over them: a request may land on any).  The peak
# is read from /proc/PID/status VmHWM after resetting it (writing 5 to
# /proc/PID/clear_refs), so it is this request's peak, not an older one;
# where the reset is refused, the growth of VmHWM is used instead (it may
# then under-count, never over-count).
#
#   use PChat::Cost;
#   my $c = cost_of(sub { get_json('/api/...') });
#       # {seconds, peak_kib (peak RSS growth), held_kib (RSS growth after)}
#   linear_cost('like words', 500, sub { my $n = shift; ...one request... });
#       # runs it at n (warm-up), then measures n and 4n; passes when the
#       # cost at 4n is within FACTOR x 4 x the cost at n (each cost at
#       # least its floor): a quadratic cost is 16x and fails by far.
#
# The code given to cost_of/linear_cost may return a code reference: it is
# called after the measurement (to close a stream that was held open).
# Options of linear_cost: memory => 'peak' (default) or 'held' (what stays
# while the returned cleanup has not run: a stream's filter), factor (2),
# kib_floor (4096), s_floor (0.5).
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use Time::HiRes ();
use Test::More ();
use Apache::Test ();

our @EXPORT = qw(server_children children_kib cost_of linear_cost);

# The pids of the test server's children.
sub server_children {
    my $pidfile = Apache::Test::vars('t_logs') . '/httpd.pid';
    open my $fh, '<', $pidfile or die "$pidfile: $!";
    my $parent = <$fh>;
    close $fh;
    chomp $parent;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $s, '<', $stat or next;
        my $line = <$s>;
        close $s;
        # pid (comm) state ppid: comm may hold spaces and parentheses
        push @kids, $1 if defined $line && $line =~ /^(\d+) \(.*\) \S+ (\d+) /
                          && $2 == $parent;
    }
    return @kids;
}

# { pid => KiB } of a /proc/PID/status field for the pids.
sub children_kib {
    my ($field, @pids) = @_;
    my %kib;
    for my $pid (@pids) {
        open my $fh, '<', "/proc/$pid/status" or next;   # it may have ended
        while (<$fh>) {
            if (/^\Q$field\E:\s+(\d+)/) {
                $kib{$pid} = $1;
                last;
            }
        }
        close $fh;
    }
    return \%kib;
}

sub _sum_over {
    my ($kib, $pids) = @_;
    my $sum = 0;
    $sum += $kib->{$_} // 0 for @$pids;
    return $sum;
}

sub cost_of {
    my ($code) = @_;
    my @pids = server_children();
    for my $pid (@pids) {
        if (open my $fh, '>', "/proc/$pid/clear_refs") {
            print $fh "5\n";
            close $fh;
        }
    }
    my $rss = children_kib('VmRSS', @pids);
    my $hwm = children_kib('VmHWM', @pids);
    my $t0 = Time::HiRes::time();
    my $cleanup = $code->();
    my $seconds = Time::HiRes::time() - $t0;
    # the children that were there before and still are: a new child
    # started meanwhile would count its whole size
    my $hwm2 = children_kib('VmHWM', @pids);
    my $rss2 = children_kib('VmRSS', @pids);
    my @still = grep { exists $hwm2->{$_} } @pids;
    my $before = _sum_over($rss, \@still);
    my %cost = (seconds => $seconds,
                peak_kib => _sum_over($hwm2, \@still) - $before,
                held_kib => _sum_over($rss2, \@still) - $before);
    # an unreset VmHWM: only its growth is this request's
    my $hwm_growth = _sum_over($hwm2, \@still) - _sum_over($hwm, \@still);
    $cost{peak_kib} = $hwm_growth if $hwm_growth < $cost{peak_kib}
                                     && _sum_over($hwm, \@still) > $before;
    $cost{peak_kib} = 0 if $cost{peak_kib} < 0;
    $cost{held_kib} = 0 if $cost{held_kib} < 0;
    $cleanup->() if ref $cleanup eq 'CODE';
    return \%cost;
}

sub linear_cost {
    my ($name, $n, $run, %opt) = @_;
    my $factor = $opt{factor} // 2;
    my $kib_floor = $opt{kib_floor} // 4096;
    my $s_floor = $opt{s_floor} // 0.5;
    my $mem = ($opt{memory} // 'peak') . '_kib';
    my $warm = $run->($n);
    $warm->() if ref $warm eq 'CODE';
    my $small = cost_of(sub { $run->($n) });
    my $large = cost_of(sub { $run->(4 * $n) });
    my $kib_max = $factor * 4 * ($small->{$mem} > $kib_floor
                                 ? $small->{$mem} : $kib_floor);
    my $s_max = $factor * 4 * ($small->{seconds} > $s_floor
                               ? $small->{seconds} : $s_floor);
    my $what = sprintf '%s: n=%d %.0f KiB %.3f s, 4n %.0f KiB %.3f s',
                       $name, $n, $small->{$mem}, $small->{seconds},
                       $large->{$mem}, $large->{seconds};
    Test::More::cmp_ok($large->{$mem}, '<=', $kib_max,
                       "$what: memory within ${factor}x linear");
    Test::More::cmp_ok($large->{seconds}, '<=', $s_max,
                       "$name: time within ${factor}x linear");
    return ($small, $large);
}

1;
