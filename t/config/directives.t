# Bad directive values stop Apache at startup with a message naming the
# directive; good ones pass the config test.
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use Apache::Test ();
use File::Temp qw(tempdir);

my $top = "$FindBin::Bin/../..";
my $module = "$top/.libs/mod_payloadchat.so";
my $httpd = Apache::Test::vars('httpd') || '/usr/sbin/apache2';
my $dir = tempdir(CLEANUP => 1);

sub config_test {
    my ($lines) = @_;
    my $conf = "$dir/httpd.conf";
    open my $fh, '>', $conf or die "$conf: $!";
    print $fh <<"EOC";
ServerRoot "$dir"
PidFile "$dir/httpd.pid"
ErrorLog "$dir/error_log"
ServerName 127.0.0.1
Listen 127.0.0.1:1
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule payloadchat_module "$module"
$lines
EOC
    close $fh;
    my $out = `"$httpd" -t -f "$conf" 2>&1`;
    return ($? >> 8, $out);
}

my ($status, $out) = config_test("PayloadChatMount /chat/api\n"
                                 . "PayloadChatMaxBodySize 4096\n"
                                 . "PayloadChatStreamKeepAlive 10\n"
                                 . "PayloadChatTombstoneRetention 0\n"
                                 . "PayloadChatCORSOrigins https://a.example *\n");
is $status, 0, 'valid directives pass' or diag $out;

my @bad = (
    ['PayloadChatMaxBodySize abc', 'PayloadChatMaxBodySize'],
    ['PayloadChatMaxBodySize 10', 'PayloadChatMaxBodySize'],
    ['PayloadChatDatabase mysql foo', 'PayloadChatDatabase'],
    ['PayloadChatMount api', 'PayloadChatMount'],
    ['PayloadChatMount /api/', 'PayloadChatMount'],
    ['PayloadChatSQLiteSync SOMETIMES', 'PayloadChatSQLiteSync'],
    ['PayloadChatCORSOrigins example.com', 'PayloadChatCORSOrigins'],
    ['PayloadChatStreamKeepAlive 0', 'PayloadChatStreamKeepAlive'],
    ['PayloadChatStreamBatch 100000', 'PayloadChatStreamBatch'],
    ['PayloadChatStreamMode sometimes', 'PayloadChatStreamMode'],
    ['PayloadChatDBMaxConnections -1', 'PayloadChatDBMaxConnections'],
    ['PayloadChatAccess everyone', 'PayloadChatAccess'],
    ['PayloadChat maybe', 'PayloadChat'],
    ['PayloadChatSecret short', 'PayloadChatSecret'],
    ['PayloadChatMaxLimit 0', 'PayloadChatMaxLimit'],
    ['PayloadChatTombstoneRetention -1', 'PayloadChatTombstoneRetention'],
    ['PayloadChatTombstoneRetention 1week', 'PayloadChatTombstoneRetention'],
    ['PayloadChatTombstoneRetention 99999999999',
     'PayloadChatTombstoneRetention'],
);
for my $case (@bad) {
    my ($line, $directive) = @$case;
    ($status, $out) = config_test("$line\n");
    isnt $status, 0, "'$line' is refused";
    # (On/Off directives are checked by Apache: "X must be On or Off")
    like $out, qr/\Q$directive\E(:| must be On or Off)/,
        "the error names $directive";
}

# Mistakes only the whole configuration shows: `apachectl -t` (the
# check_config hook) refuses them, so a graceful restart never meets them.
my $file = "$dir/not-a-dir";
open my $plain, '>', $file or die "$file: $!";
close $plain;
my @whole = (
    ["PayloadChat On\nPayloadChatAccess members\n", 'PayloadChatAccess',
     'members without a secret'],
    ["PayloadChat On\n<VirtualHost 127.0.0.1:2>\nPayloadChatAccess members\n"
     . "</VirtualHost>\n",
     'PayloadChatAccess', 'members without a secret in a virtual host'],
    ["<VirtualHost 127.0.0.1:2>\nPayloadChatMount /chat\n"
     . "PayloadChatAccess members\n</VirtualHost>\n",
     'PayloadChatAccess', 'members without a secret where the mount is set'],
    ["PayloadChat On\nPayloadChatDatabase sqlite3 $file/chat.sqlite\n",
     'PayloadChatDatabase', 'a sqlite path under a file'],
    ["PayloadChat On\nPayloadChatDatabase sqlite3 $dir\n",
     'PayloadChatDatabase', 'a sqlite path that is a directory'],
);
for my $case (@whole) {
    my ($lines, $directive, $what) = @$case;
    ($status, $out) = config_test($lines);
    isnt $status, 0, "configtest refuses $what";
    like $out, qr/\Q$directive\E:/, "the error names $directive ($what)";
    unlike $out, qr/Syntax OK/, "no 'Syntax OK' for $what";
}
($status, $out) = config_test("PayloadChatAccess members\n"
    . "<VirtualHost 127.0.0.1:2>\nPayloadChat Off\n</VirtualHost>\n");
is $status, 0, 'members without a secret where the module is off passes'
    or diag $out;
($status, $out) = config_test("PayloadChat On\nPayloadChatAccess members\n"
    . "PayloadChatSecret test-secret-0123456789abcdef0123456789\n"
    . "PayloadChatDatabase sqlite3 $dir/new/sub/chat.sqlite\n");
is $status, 0, 'members with a secret and a sqlite file still to make pass'
    or diag $out;

done_testing;
