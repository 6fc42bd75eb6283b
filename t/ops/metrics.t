# The Prometheus handler (SetHandler payloadchat-metrics): every line of
# the scrape is valid text exposition format, counters are node-wide and
# grow with what they count.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;
use Apache::TestRequest ();

my $NAME = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
my $VALUE = qr/[-+]?(?:\d+(?:\.\d*)?(?:[eE][-+]?\d+)?|NaN|[-+]?Inf)/;

# Scrapes with curl, a client of its own; returns {"name{labels}" => value}
# after checking every line; the errors found go to @$bad.
sub scrape {
    my $bad = shift;
    my $url = 'http://' . hostport() . '/pchat-metrics';
    my $out = `curl -s -D - $url`;
    my ($head, $body) = split /\r\n\r\n/, $out, 2;
    push @$bad, "status: $head" unless $head =~ m{^HTTP/1\.1 200};
    push @$bad, 'content type' unless $head =~
        m{^Content-Type: text/plain; version=0\.0\.4}mi;
    my (%v, %type);
    for my $line (split /\n/, $body // '') {
        if ($line =~ /^# HELP ($NAME) \S/) { next }
        if ($line =~ /^# TYPE ($NAME) (counter|gauge|histogram|summary|untyped)$/) {
            push @$bad, "TYPE twice: $1" if $type{$1}++;
            next;
        }
        if ($line =~ /^($NAME)(\{(?:$NAME="(?:[^"\\\n]|\\.)*",?)*\})? ($VALUE)$/) {
            my ($name, $labels, $value) = ($1, $2 // '', $3);
            (my $family = $name) =~ s/_(bucket|sum|count)$//;
            push @$bad, "no TYPE before $name"
                unless $type{$name} || $type{$family};
            push @$bad, "sample twice: $name$labels"
                if exists $v{"$name$labels"};
            $v{"$name$labels"} = $value;
            next;
        }
        push @$bad, "not exposition format: $line";
    }
    return \%v;
}

on_server(undef);
my @bad;
my $m0 = scrape(\@bad);
is_deeply \@bad, [], 'every line of the scrape is valid';
ok exists $m0->{'payloadchat_requests_total{endpoint="count",code="2xx"}'},
    'requests by endpoint and status class';
ok exists $m0->{'payloadchat_request_duration_seconds_bucket{endpoint="count",le="+Inf"}'},
    'a latency histogram per endpoint';
for my $name (qw(payloadchat_subscribers payloadchat_h2_subscribers
                 payloadchat_db_connections_busy
                 payloadchat_db_connections_open
                 payloadchat_frames_delivered_total
                 payloadchat_rate_limited_total payloadchat_csrf_refused_total)) {
    ok exists $m0->{$name}, $name;
}

# the histogram's buckets are cumulative and end at the count
my $key = 'payloadchat_request_duration_seconds';
my @le = map { $m0->{"${key}_bucket{endpoint=\"count\",le=\"$_\"}"} }
         qw(0.001 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2.5 5 10 +Inf);
is scalar(grep { defined } @le), 13, 'thirteen buckets';
is_deeply [sort { $a <=> $b } @le], \@le, 'buckets are cumulative';
is $le[-1], $m0->{"${key}_count{endpoint=\"count\"}"}, '+Inf is the count';

get_json('/api/messages/count') for 1 .. 3;
get_json('/api/messages/nope/nope/nope');
my $email = uniq('metrics') . '@example.com';
post_json('/api/users/login', {email => $email, password => 'wrong-password'});
# a cookie-authenticated write from another site: refused (403)
my $id = make_user($email, 'password123');
my ($res) = post_json('/api/users/login',
                      {email => $email, password => 'password123'});
my ($cookie) = ($res->header('Set-Cookie') // '') =~ /^([^;]+)/;
post_json('/api/messages', {content => 'x', sender => $id, receiver => $id},
          Cookie => $cookie, Origin => 'https://evil.example');
# three logins a minute on pchat_ops: seven have a 429 among them, even
# across the turn of a minute
on_server('pchat_ops');
post_json('/api/users/login', {email => $email, password => 'wrong-password'})
    for 1 .. 7;
on_server(undef);

@bad = ();
my $m1 = scrape(\@bad);
is_deeply \@bad, [], 'every line of the second scrape is valid';
my $grew = sub {
    my ($k, $by) = @_;
    cmp_ok(($m1->{$k} // 0) - ($m0->{$k} // 0), '>=', $by, "$k grew by $by");
};
$grew->('payloadchat_requests_total{endpoint="count",code="2xx"}', 3);
$grew->("${key}_count{endpoint=\"count\"}", 3);
$grew->('payloadchat_requests_total{endpoint="none",code="4xx"}', 1);
$grew->('payloadchat_logins_total{result="failed"}', 1);
$grew->('payloadchat_logins_total{result="ok"}', 1);
$grew->('payloadchat_csrf_refused_total', 1);
$grew->('payloadchat_rate_limited_total', 1);
$grew->('payloadchat_requests_total{endpoint="login",code="4xx"}', 8);
$grew->('payloadchat_message_writes_total', 0);
cmp_ok $m1->{"${key}_sum{endpoint=\"count\"}"}, '>',
    $m0->{"${key}_sum{endpoint=\"count\"}"}, 'the latency sum grows';

$res = Apache::TestRequest::POST('/pchat-metrics', content => '');
is $res->code, 405, 'only GET';

done_testing;
