/* Version strings and the build's feature list (for -v, -vv, feature()). */
#ifndef PROXYD_VERSION_H
#define PROXYD_VERSION_H

/* The HAProxy release whose behaviour proxyd implements; version_atleast()
 * and version_before() in .if blocks compare against it. */
#define HAPROXY_COMPAT_VERSION "2.6.12"
#define PROXYD_RELEASE_DATE    "2026/11/25"

extern const char proxyd_version[];

/* 1 when the build has feature <name> ("OPENSSL", "PCRE2", ...), else 0. */
int feature_enabled(const char *name);
/* Prints the -v (verbose = 0) or -vv (verbose = 1) text to stdout. */
void version_print(int verbose);

#endif
