/* PCRE2 regular expressions, compiled once at load time (JIT when the
 * library offers it), with per-thread match data so matching allocates
 * nothing. */
#ifndef PROXYD_REGEX_H
#define PROXYD_REGEX_H

#include <stddef.h>

#define REGEX_MAX_GROUPS 10   /* \0 .. \9 in substitutions */

struct my_regex;

/* Compiles <pattern>; <icase> for case-insensitive. NULL with the PCRE2
 * error and its offset in <err>. The object lives in the config arena
 * (its compiled code is freed by regex_free_all()). */
struct my_regex *regex_compile(const char *pattern, int icase, char *err, size_t errlen);
/* 1 when <subject> matches anywhere, 0 otherwise. */
int regex_exec(const struct my_regex *re, const char *subject, size_t len);
/* Same, filling offsets of the groups: ovec[2*i], ovec[2*i+1] for group i
 * (-1 when unset). Returns the number of groups set, 0 when no match. */
int regex_exec_groups(const struct my_regex *re, const char *subject, size_t len,
                      long *ovec, int max_groups);
/* Replaces the first match (or every match with <global>) of <re> in
 * <subject> by <subst>, where \0..\9 stand for groups. Writes to dst
 * (size dlen). Returns the output length, or -1 when it does not fit. */
long regex_subst(const struct my_regex *re, const char *subject, size_t len, const char *subst,
                 int global, char *dst, size_t dlen);
void regex_free_all(void);
/* The calling thread's match data (a thread that ends). */
void regex_thread_deinit(void);

#endif
