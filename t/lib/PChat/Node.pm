package PChat::Node;
# A second Apache with the module: another node of a cluster, sharing the
# suite's database (sqlite file or PostgreSQL, as scripts/test.sh chose)
# but nothing else: its own processes, shared memory and stream hubs.
use strict;
use warnings FATAL => 'all';
use IO::Socket::INET ();
use LWP::UserAgent ();
use Time::HiRes qw(sleep time);

# A port nobody listens on now.
sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Proto => 'tcp', Listen => 1)
        or die "no free port: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

sub start {
    my ($class, %opt) = @_;
    my $top = $ENV{PCHAT_TOP} or die 'PCHAT_TOP is not set (run scripts/test.sh)';
    my $mpm = $ENV{PCHAT_MPM} // 'event';
    my $port = free_port();
    my $dir = "$top/t/run/node-$port";
    mkdir $dir or die "mkdir $dir: $!";
    my $user = $> == 0 ? "User nobody\nGroup nogroup\n" : '';
    my $extra = $opt{config} // '';
    open my $fh, '>', "$dir/httpd.conf" or die $!;
    print $fh <<"CONF";
ServerRoot "$dir"
DefaultRuntimeDir "$dir"
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
LogLevel warn payloadchat:info
ServerName 127.0.0.1
Listen 127.0.0.1:$port
$user
LoadModule mpm_${mpm}_module /usr/lib/apache2/modules/mod_mpm_${mpm}.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule payloadchat_module "$ENV{PCHAT_MODULE}"
<IfModule mpm_event_module>
    AsyncRequestWorkerFactor 1000
</IfModule>
PayloadChat On
PayloadChatDatabase $ENV{PCHAT_DB_DRIVER} "$ENV{PCHAT_DB_PARAMS}"
$extra
CONF
    close $fh;
    my $self = bless {dir => $dir, port => $port, owner => $$,
                      httpd => $ENV{PCHAT_HTTPD} // '/usr/sbin/apache2'},
                     $class;
    return $self->launch;
}

sub launch {
    my ($self) = @_;
    delete $self->{stopped};
    system($self->{httpd}, '-f', "$self->{dir}/httpd.conf", '-k', 'start') == 0
        or die "node on $self->{port} did not start: " . $self->log_tail;
    my $ua = LWP::UserAgent->new(timeout => 2);
    my $deadline = time + 15;
    while (time < $deadline) {
        return $self if $ua->get($self->url('/api/users'))->code == 200;
        sleep 0.1;
    }
    $self->stop;
    die "node on $self->{port} does not answer: " . $self->log_tail;
}

# SIGKILL to the parent and every child at once: a power cut of Apache.
sub kill_hard {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/httpd.pid" or die "no pid file: $!";
    chomp(my $parent = <$fh>);
    my @children = split ' ', `pgrep -P $parent`;
    kill 'KILL', $parent, @children;
    my $deadline = time + 10;
    sleep 0.05 while kill(0, $parent, @children) && time < $deadline;
    $self->{stopped} = 1;
    return 1 + @children;
}

sub port     { $_[0]{port} }
sub hostport { "127.0.0.1:$_[0]{port}" }
sub url      { "http://127.0.0.1:$_[0]{port}$_[1]" }

sub log_tail {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/error_log" or return '(no error_log)';
    my @lines = <$fh>;
    return join '', @lines[-(@lines < 20 ? @lines : 20) .. -1];
}

# Lines of the node's error log that match $re.
sub log_lines {
    my ($self, $re) = @_;
    open my $fh, '<', "$self->{dir}/error_log" or return ();
    return grep { /$re/ } <$fh>;
}

# Lines of the node's error log that tell of a crash or a memory error.
sub crashes {
    $_[0]->log_lines(qr/exit signal|Segmentation|AddressSanitizer|runtime error:/);
}

sub stop {
    my ($self) = @_;
    return if $self->{stopped}++;
    system($self->{httpd}, '-f', "$self->{dir}/httpd.conf", '-k', 'stop');
    my $deadline = time + 15;
    sleep 0.1 while -e "$self->{dir}/httpd.pid" && time < $deadline;
}

# Only the process that started the node stops it: not a forked child.
sub DESTROY { $_[0]->stop if $$ == $_[0]{owner} }

1;
