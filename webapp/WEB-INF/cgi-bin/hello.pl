#!/usr/bin/perl
# Hello world in Perl: an HTML page with the time and the Perl version.
use strict;
use warnings;

sub esc {
    my ($s) = @_;
    $s = '' unless defined $s;
    $s =~ s/&/&amp;/g;
    $s =~ s/</&lt;/g;
    $s =~ s/>/&gt;/g;
    $s =~ s/"/&quot;/g;
    $s =~ s/'/&#x27;/g;
    return $s;
}

my $now    = localtime;
my $perl   = sprintf('%vd', $^V);
my $server = $ENV{SERVER_SOFTWARE} // 'an unknown server';

print "Content-Type: text/html; charset=utf-8\n\n";
print <<"HTML";
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Hello from Perl</title>
<style>body { font-family: system-ui, sans-serif; margin: 2rem; }</style>
</head>
<body>
<h1>Hello, world!</h1>
<p>The time here is <strong>@{[ esc($now) ]}</strong>.</p>
<p>This page was made by Perl @{[ esc($perl) ]}, run by @{[ esc($server) ]}.</p>
</body>
</html>
HTML
