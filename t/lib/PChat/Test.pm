package PChat::Test;
# Helpers for the API tests: JSON requests, users and messages made with
# names unique to this run, so every file passes in any order.
use strict;
use warnings FATAL => 'all';
use Exporter 'import';
use JSON::PP ();
use Apache::TestRequest ();
use Time::HiRes ();

our @EXPORT = qw(api get_json post_json patch_json delete_json make_user
                 make_message uniq json_of on_server login hostport db_exec
                 db_query in_children);

my $json = JSON::PP->new->utf8->canonical;
my $counter = 0;

# A string no other test or run uses.
sub uniq {
    my $prefix = shift // 'u';
    return sprintf "%s-%d-%d-%d", $prefix, $$, int(Time::HiRes::time() * 1000),
                   ++$counter;
}

# Sends further requests to a virtual host of t/conf/extra.conf.in
# (undef: the main server).
sub on_server {
    # module(undef) keeps the current one: clear it for the main server
    $Apache::TestRequest::Module = $_[0];
}

sub hostport { Apache::TestRequest::hostport() }

sub json_of {
    my $res = shift;
    my $body = $res->decoded_content(charset => 'none') // $res->content;
    my $data = eval { $json->decode($body) };
    return $data;
}

# api(METHOD, PATH, BODY, HEADERS...) -> (response, decoded json).
# BODY: a reference (encoded as JSON), a string (sent as is) or undef.
sub api {
    my ($method, $path, $body, %headers) = @_;
    my $ua = Apache::TestRequest::user_agent(keep_alive => 1);
    my $url = Apache::TestRequest::resolve_url($path);
    my $req = HTTP::Request->new($method => $url);
    if (defined $body) {
        $req->content(ref $body ? $json->encode($body) : $body);
        $req->header('Content-Type' => 'application/json');
    }
    $req->header($_ => $headers{$_}) for keys %headers;
    my $res = $ua->request($req);
    return wantarray ? ($res, json_of($res)) : $res;
}

sub get_json    { api('GET', @_) }
sub post_json   { api('POST', @_) }
sub patch_json  { api('PATCH', @_) }
sub delete_json { api('DELETE', @_) }

# A new user; returns its id.
sub make_user {
    my ($email, $password) = @_;
    $email //= uniq('user') . '@example.com';
    my ($res, $data) = post_json('/api/users',
                                 {email => $email,
                                  password => $password // 'password123'});
    die "make_user $email: " . $res->status_line . ' ' . $res->content
        unless $res->code == 201;
    return $data->{doc}{id};
}

# A new message; returns its doc (depth 0).
sub make_message {
    my ($sender, $receiver, $content, %headers) = @_;
    my ($res, $data) = post_json('/api/messages?depth=0',
                                 {sender => $sender, receiver => $receiver,
                                  content => $content // uniq('msg')},
                                 %headers);
    die "make_message: " . $res->status_line . ' ' . $res->content
        unless $res->code == 201;
    return $data->{doc};
}

# Runs one SQL statement on the suite's database, whichever backend the
# test command chose (scripts/test.sh exports where it is).
sub db_exec {
    my $sql = shift;
    my $rc = $ENV{PCHAT_DB_DRIVER} eq 'pgsql'
        ? system('sh', "$ENV{PCHAT_TOP}/scripts/pg.sh", 'psql',
                 $ENV{PCHAT_PG_DIR}, $ENV{PCHAT_PG_PORT}, '-qAt',
                 '-v', 'ON_ERROR_STOP=1', '-c', $sql)
        : system('sqlite3', $ENV{PCHAT_DB_PARAMS}, $sql);
    die "db_exec failed: $sql" if $rc;
}

# The first column of the rows of one SQL query, as text lines.
sub db_query {
    my $sql = shift;
    my @cmd = $ENV{PCHAT_DB_DRIVER} eq 'pgsql'
        ? ('sh', "$ENV{PCHAT_TOP}/scripts/pg.sh", 'psql', $ENV{PCHAT_PG_DIR},
           $ENV{PCHAT_PG_PORT}, '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', $sql)
        : ('sqlite3', $ENV{PCHAT_DB_PARAMS}, $sql);
    open my $fh, '-|', @cmd or die "db_query: $!";
    my @lines = map { chomp; $_ } <$fh>;
    close $fh or die "db_query failed: $sql";
    return @lines;
}

# Runs $code->($i) for i in 1..$n, each in a child process with an HTTP
# connection of its own, all at once; returns the line each printed, in
# order of i.
sub in_children {
    my ($n, $code) = @_;
    my @kids;
    for my $i (1 .. $n) {
        pipe(my $r, my $w) or die "pipe: $!";
        my $pid = fork() // die "fork: $!";
        if (!$pid) {
            close $r;
            Apache::TestRequest::user_agent(reset => 1, keep_alive => 1);
            print $w $code->($i), "\n";
            close $w;
            exit 0;
        }
        close $w;
        push @kids, [$pid, $r];
    }
    my @lines;
    for my $kid (@kids) {
        my $line = readline $kid->[1];
        chomp $line if defined $line;
        push @lines, $line // '';
        waitpid $kid->[0], 0;
    }
    return @lines;
}

# Logs in; returns (token, response data).
sub login {
    my ($email, $password) = @_;
    my ($res, $data) = post_json('/api/users/login',
                                 {email => $email, password => $password});
    return ($res->code == 200 ? $data->{token} : undef, $data, $res);
}

1;
