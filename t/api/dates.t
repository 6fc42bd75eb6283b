# Dates must land in the years 0001-9999 once normalised to UTC: anything
# else is a ValidationError, since it would come back as text no ISO reader
# accepts (JavaScript's Date throws on "-001-12-31T23:59:00.000Z").  The
# limits themselves are kept exactly, and a refused write changes nothing.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

my ($alice, $bob) = (make_user(), make_user());
my $kept = make_message($alice, $bob, uniq('kept'));

sub total {
    my (undef, $data) = get_json('/api/messages/count');
    return $data->{totalDocs};
}

sub invalid_paths {
    my ($data) = @_;
    return [map { $_->{path} } @{$data->{errors}[0]{data}{errors} || []}];
}

my $before = total();
for my $ts ('0000-01-01T00:00:00+00:01', '0001-01-01T00:30:00+01:00',
            '0000-06-15T12:00:00Z', '9999-12-31T23:59:00-00:01',
            '9999-12-31T23:00:00-01:00') {
    my ($res, $data) = post_json('/api/messages?depth=0',
                                 {sender => $alice, receiver => $bob,
                                  content => uniq('date'), timestamp => $ts});
    is $res->code, 400, "timestamp $ts: 400";
    is $data->{errors}[0]{name}, 'ValidationError', "$ts: a ValidationError";
    is_deeply invalid_paths($data), ['timestamp'], "$ts: names timestamp";
    like $data->{errors}[0]{data}{errors}[0]{message}, qr/not a valid date/,
         "$ts: says why";

    ($res, $data) = patch_json("/api/messages/$kept->{id}?depth=0",
                               {timestamp => $ts});
    is $res->code, 400, "PATCH to $ts: 400";
}
is total(), $before, 'no message was stored';
my (undef, $doc) = get_json("/api/messages/$kept->{id}?depth=0");
is $doc->{timestamp}, $kept->{timestamp}, 'the kept message keeps its date';
is $doc->{updatedAt}, $kept->{updatedAt}, 'and was not updated';

# the limits are dates like any other, and come back as written
for ([ '0001-01-01T00:00:00Z', '0001-01-01T00:00:00.000Z' ],
     [ '0001-01-01T00:30:00+00:30', '0001-01-01T00:00:00.000Z' ],
     [ '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z' ],
     [ '9999-12-31T22:59:59-01:00', '9999-12-31T23:59:59.000Z' ]) {
    my ($ts, $back) = @$_;
    my ($res, $data) = post_json('/api/messages?depth=0',
                                 {sender => $alice, receiver => $bob,
                                  content => uniq('date'), timestamp => $ts});
    is $res->code, 201, "timestamp $ts: stored";
    is $data->{doc}{timestamp}, $back, "$ts: comes back as $back";
    (undef, $doc) = get_json("/api/messages/$data->{doc}{id}?depth=0");
    is $doc->{timestamp}, $back, "$ts: read back as $back";
}

# in a where, such a date is a QueryError, not a 500 or a wider match
my ($res, $data) = get_json('/api/messages?where[timestamp][less_than]='
                            . '0000-01-01T00:00:00%2B00:01');
is $res->code, 400, 'a where with such a date: 400';
like $data->{errors}[0]{message}, qr/ISO-8601 date/, 'says why';

done_testing();
