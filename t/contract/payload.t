# The contract with the real Payload: replays the bank of requests that
# scripts/record-contract sent to the Payload Chat reference app
# (t/contract/bank.json) against the module, on a virtual host with a
# database of its own (pchat_contract), and compares each answer, normalised
# the same way, with Payload's (t/contract/payload-answers.json): status,
# keys and their order, value types, values, error shapes.  An answer that
# differs fails the test unless t/contract/deliberate.json lists it, with
# its reason; the README's list of differences must name each entry.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use JSON::PP ();
use Encode ();
use Time::HiRes ();
use PChat::Test;

my $dir = $FindBin::Bin;
my $top = "$dir/../..";
my $fixture = JSON::PP->new->utf8;
sub slurp { local (@ARGV, $/) = @_; return scalar <> }
my $bank = $fixture->decode(slurp("$dir/bank.json"));
my $payload = $fixture->decode(slurp("$dir/payload-answers.json"));
my $known = $fixture->decode(slurp("$dir/deliberate.json"));

# ---- JSON with its key order (JSON::PP's hashes lose it) ---------------------
# Objects are [OBJ, k1, v1, k2, v2, ...], arrays [ARR, ...]; scalars are
# [STR, text], [NUM, text] or [LIT, true|false|null].
use constant { OBJ => 'o', ARR => 'a', STR => 's', NUM => 'n', LIT => 'l' };
my $str = JSON::PP->new->allow_nonref;

sub parse_value {
    my ($s) = @_;   # works on $_[0] with pos()
    $$s =~ /\G\s*/gc;
    if ($$s =~ /\G\{/gc) {
        my @o = (OBJ);
        $$s =~ /\G\s*/gc;
        return \@o if $$s =~ /\G\}/gc;
        while (1) {
            my $k = parse_value($s);
            die "object key is not a string\n" unless $k->[0] eq STR;
            $$s =~ /\G\s*:/gc or die "':' expected\n";
            push @o, $k->[1], parse_value($s);
            $$s =~ /\G\s*/gc;
            next if $$s =~ /\G,/gc;
            last if $$s =~ /\G\}/gc;
            die "',' or '}' expected\n";
        }
        return \@o;
    }
    if ($$s =~ /\G\[/gc) {
        my @a = (ARR);
        $$s =~ /\G\s*/gc;
        return \@a if $$s =~ /\G\]/gc;
        while (1) {
            push @a, parse_value($s);
            $$s =~ /\G\s*/gc;
            next if $$s =~ /\G,/gc;
            last if $$s =~ /\G\]/gc;
            die "',' or ']' expected\n";
        }
        return \@a;
    }
    return [STR, $str->decode($1)] if $$s =~ /\G("(?:[^"\\]|\\.)*")/gc;
    return [NUM, $1] if $$s =~ /\G(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/gc;
    return [LIT, $1] if $$s =~ /\G(true|false|null)/gc;
    die "bad JSON at " . pos($$s) . "\n";
}

sub parse_ordered {
    my ($text) = @_;
    my $v = eval {
        my $x = parse_value(\$text);
        $text =~ /\G\s*\z/gc or die "trailing text\n";
        $x;
    };
    return $v // [OBJ, '<not JSON>', [STR, substr($text, 0, 200)]];
}

# As JSON.stringify writes it (the recorder's serialisation).
sub stringify {
    my ($v) = @_;
    my $t = $v->[0];
    if ($t eq OBJ) {
        my @kv = @$v[1 .. $#$v];
        my @parts;
        while (my ($k, $x) = splice @kv, 0, 2) {
            push @parts, $str->encode($k) . ':' . stringify($x);
        }
        return '{' . join(',', @parts) . '}';
    }
    return '[' . join(',', map { stringify($_) } @$v[1 .. $#$v]) . ']'
        if $t eq ARR;
    return $str->encode($v->[1]) if $t eq STR;
    return $v->[1];
}

sub obj_has {
    my ($o, $key) = @_;
    for (my $i = 1; $i < @$o; $i += 2) {
        return 1 if $o->[$i] eq $key;
    }
    return 0;
}

# ---- normalisation: the rules of scripts/contract-normalise.js ---------------
my $DATE = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
my $JWT = qr/^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my %USERS_KEY = map { $_ => 1 } qw(sender receiver user);

sub walk {
    my ($v, $coll, $by) = @_;
    my $t = $v->[0];
    if ($t eq ARR) {
        return [ARR, map { walk($_, $coll, $by) } @$v[1 .. $#$v]];
    }
    if ($t eq OBJ) {
        my @o = (OBJ);
        for (my $i = 1; $i < @$v; $i += 2) {
            my ($k, $x) = ($v->[$i], $v->[$i + 1]);
            my $scalar = $x->[0] eq NUM || $x->[0] eq STR;
            if ($k eq 'id' && $scalar && $by->{$coll}{$x->[1]}) {
                push @o, $k, [STR, $by->{$coll}{$x->[1]}];
            }
            elsif ($USERS_KEY{$k}) {
                push @o, $k, ($x->[0] eq NUM && $by->{users}{$x->[1]})
                    ? [STR, $by->{users}{$x->[1]}] : walk($x, 'users', $by);
            }
            elsif (($k eq 'exp' || $k eq 'iat') && $x->[0] eq NUM) {
                push @o, $k, [STR, '<int>'];
            }
            elsif ($k eq 'name' && $x->[0] eq STR && obj_has($v, 'message')) {
                push @o, $k, [STR, '<name>'];
            }
            else {
                push @o, $k, walk($x, $coll, $by);
            }
        }
        return \@o;
    }
    if ($t eq STR) {
        return [STR, '<date>'] if $v->[1] =~ $DATE;
        return [STR, '<token>'] if $v->[1] =~ $JWT;
        return [STR, '<uuid>'] if $v->[1] =~ $UUID;
    }
    return $v;
}

sub labels {
    my ($ids, $order) = @_;
    my %by = (users => {}, messages => {});
    for my $label (@$order) {
        $by{substr($label, 0, 1) eq 'u' ? 'users' : 'messages'}
            {$ids->{$label}} = $label;
    }
    return \%by;
}

sub normalise {
    my ($text, $r, $ids, $order) = @_;
    my $coll = $r->{path} =~ m{^/api/users} ? 'users' : 'messages';
    return stringify(walk(parse_ordered($text), $coll, labels($ids, $order)));
}

# Differences kept on purpose, applied to both answers before they are
# compared (t/contract/deliberate.json): keys dropped everywhere
# (drop_key), relations reduced to their id in anonymous answers
# (collapse_relations), and per request values masked at dotted paths
# (mask, arrays looked through).
my @drop = map { $_->{drop_key} } grep { $_->{drop_key} } @{$known->{global}};
my $collapse = grep { $_->{collapse_relations} } @{$known->{global}};

sub transform {
    my ($text, $r, $mask) = @_;
    my $anonymous = !grep { lc $_ eq 'authorization' } keys %{$r->{headers} || {}};
    my $walk;
    $walk = sub {
        my ($x, $path) = @_;
        if ($x->[0] eq OBJ) {
            my @o = (OBJ);
            for (my $i = 1; $i < @$x; $i += 2) {
                my ($k, $v) = ($x->[$i], $x->[$i + 1]);
                my $at = $path eq '' ? $k : "$path.$k";
                next if grep { $_ eq $k } @drop;
                if (grep { $_ eq $at } @$mask) {
                    push @o, $k, [STR, '<masked>'];
                }
                elsif ($collapse && $anonymous && $k =~ /^(sender|receiver)$/
                       && $v->[0] eq OBJ) {
                    my %h = @$v[1 .. $#$v];
                    push @o, $k, $h{id} // $v;
                }
                else {
                    push @o, $k, $walk->($v, $at);
                }
            }
            return \@o;
        }
        return [ARR, map { $walk->($_, $path) } @$x[1 .. $#$x]]
            if $x->[0] eq ARR;
        return $x;
    };
    return stringify($walk->(parse_ordered($text), ''));
}

# ---- replaying ---------------------------------------------------------------
my (%ids, @order, %tokens);

sub fill {
    my ($s) = @_;
    $s =~ s/\{(tok:)?([a-z]+[0-9]*)\}/
        $1 ? ($tokens{$2} \/\/ 'missing-token')
           : (defined $ids{$2} ? $ids{$2} : "{$2}")/ge;
    return $s;
}

sub fill_body {
    my ($b) = @_;
    if (ref $b eq 'ARRAY') {
        return [map { fill_body($_) } @$b];
    }
    if (ref $b eq 'HASH') {
        return {map { $_ => fill_body($b->{$_}) } keys %$b};
    }
    if (defined $b && !ref $b && $b =~ /^\{([a-z][0-9]+)\}$/
        && defined $ids{$1}) {
        return 0 + $ids{$1};
    }
    return ref $b ? $b : defined $b ? fill($b) : $b;
}

sub dig {
    my ($data, $path) = @_;
    for my $k (split /\./, $path) {
        return undef unless ref $data eq 'HASH';
        $data = $data->{$k};
    }
    return $data;
}

my $body_json = JSON::PP->new->utf8->canonical;
sub send_request {
    my ($r) = @_;
    my %headers = map { $_ => fill($r->{headers}{$_}) }
                  keys %{$r->{headers} || {}};
    my $body;
    if (exists $r->{raw}) {
        $body = $r->{raw};
    }
    elsif (exists $r->{body}) {
        $body = $body_json->encode(fill_body($r->{body}));
        $headers{'Content-Type'} //= 'application/json';
    }
    my $ua = Apache::TestRequest::user_agent(keep_alive => 1);
    my $req = HTTP::Request->new($r->{method} =>
        Apache::TestRequest::resolve_url(fill($r->{path})));
    $req->content($body) if defined $body;
    $req->header($_ => $headers{$_}) for keys %headers;
    my $res = $ua->request($req);
    my $bytes = $res->decoded_content(charset => 'none') // $res->content;
    my $text = Encode::decode('UTF-8', $bytes);
    my $data = eval { $body_json->decode($bytes) };
    for my $label (sort keys %{$r->{save} || {}}) {
        my $v = dig($data, $r->{save}{$label});
        if (defined $v) {
            $ids{$label} = $v;
            @order = ((grep { $_ ne $label } @order), $label);
        }
    }
    for my $who (keys %{$r->{token} || {}}) {
        my $v = dig($data, $r->{token}{$who});
        $tokens{$who} = $v if defined $v && !ref $v;
    }
    # distinct createdAt for every document, as Payload's slower writes give
    Time::HiRes::sleep(0.005) if $r->{method} ne 'GET';
    return ($res->code, $text);
}

on_server('pchat_contract');
my ($res, $count) = get_json('/api/users/count');
is $count->{totalDocs}, 0, 'the contract database starts empty'
    or BAIL_OUT('pchat_contract needs a database of its own, fresh');

my %listed;
for my $entry (@{$known->{requests}}) {
    for my $name (@{$entry->{names}}) {
        ok !$listed{$name}, "listed once: $name";
        $listed{$name} = $entry;
        ok $payload->{answers}{$name}, "listed request is in the bank: $name";
    }
}

my (%tally, @stale);
is scalar @$bank, $payload->{requests}, 'the recording covers the bank';
for my $r (@$bank) {
    my $want = $payload->{answers}{$r->{name}};
    my ($status, $text) = send_request($r);
    my $entry = $listed{$r->{name}};
    my $ours = normalise($text, $r, \%ids, \@order);
    my $same = $status == $want->{status}
               && transform($ours, $r, []) eq transform($want->{body}, $r, []);
    my $mask = $entry && $entry->{mask};
    my $masked = $mask && $status == $want->{status}
                 && transform($ours, $r, $mask)
                    eq transform($want->{body}, $r, $mask);
    if ($same) {
        $tally{identical}++;
        push @stale, $r->{name} if $entry;
        pass "identical: $r->{name}";
    }
    elsif ($entry && (!$mask || $masked)) {
        $tally{$entry->{kind}}++;
        pass "$entry->{kind}: $r->{name}";
    }
    else {
        $ours = transform($ours, $r, $mask || []);
        my $theirs = transform($want->{body}, $r, $mask || []);
        fail "same answer as Payload: $r->{method} $r->{path} ($r->{name})";
        diag "Payload: $want->{status} $theirs";
        diag "module:  $status $ours";
    }
}
for my $name (@stale) {
    if ($listed{$name}{kind} eq 'deliberate') {
        fail "listed as deliberate but identical now: $name";
    }
    else {
        diag "pending difference is gone (remove it from the list): $name";
    }
}
diag sprintf "contract: %d requests: %d identical, %d deliberate, %d pending",
    scalar @$bank, map { $tally{$_} // 0 } qw(identical deliberate pending);

# The README names every difference, under its heading.
my $readme = slurp("$top/README.md");
my ($section) = $readme =~ /^### Where we differ from Payload, on purpose\n(.*?)^#/ms;
ok $section, 'README has the section of differences';
(my $flat = $section // '') =~ s/\s+/ /g;
for my $entry (@{$known->{global}}, @{$known->{requests}}) {
    next if exists $entry->{readme} && !$entry->{readme};  # test artefacts
    my $line = $entry->{summary};
    ok index($flat, $line) >= 0, "README lists: $line";
}

done_testing;
