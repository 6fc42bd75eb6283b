# The chat page and its assets (htdocs/, served by Apache core at /chat as
# t/conf/extra.conf.in and conf/httpd.conf.in set it up) carry the security
# headers of the shipped configs: a Content-Security-Policy that allows
# only the page's own script, style and API and no framing, X-Frame-Options,
# nosniff and a Referrer-Policy.  The page needs nothing inline, which the
# policy would block (t/browser/chat.t runs it under the policy).
use strict;
use warnings FATAL => 'all';
use FindBin;
use lib "$FindBin::Bin/../lib";
use Test::More;
use PChat::Test;

for my $path ('/chat/', '/chat/index.html', '/chat/app.js', '/chat/style.css',
              '/chat/missing.png') {
    my $res = api('GET', $path);
    my $csp = $res->header('Content-Security-Policy') // '';
    my %dir = map { my ($k, @v) = split ' '; ($k => "@v") }
              grep { /\S/ } split /;/, $csp;
    is $dir{'default-src'}, "'self'", "$path: CSP default-src 'self'";
    is $dir{'script-src'}, "'self'", "$path: scripts only from the site";
    is $dir{'connect-src'}, "'self'", "$path: connects only to the site";
    is $dir{'frame-ancestors'}, "'none'", "$path: no framing (CSP)";
    is $dir{'object-src'}, "'none'", "$path: no plugins";
    is $res->header('X-Frame-Options'), 'DENY', "$path: X-Frame-Options";
    is $res->header('X-Content-Type-Options'), 'nosniff', "$path: nosniff";
    is $res->header('Referrer-Policy'), 'no-referrer',
       "$path: Referrer-Policy";
}

# nothing the policy would block: no inline script, style or handler
my $page = api('GET', '/chat/')->decoded_content;
like $page, qr{<script type="module" src="app\.js"></script>},
     'the page loads its script from a file';
unlike $page, qr{<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son[a-z]+=}i,
       'and has nothing inline';

done_testing();
