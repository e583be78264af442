/* Start-up and runtime diagnostics in HAProxy's shape:
 *   [ALERT]    (pid) : config : parsing [file:line] : message
 * Output goes to stderr, or to a capture buffer installed by unit tests.
 */
#ifndef PROXYD_DIAG_H
#define PROXYD_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <proxyd/compiler.h>

enum diag_level {
	DIAG_DIAG = 0,   /* only shown with -dD / verbose */
	DIAG_NOTICE,
	DIAG_WARNING,
	DIAG_ALERT,
};

extern int diag_quiet;      /* -q: drop notices and warnings */
extern int diag_verbose;    /* -d: show diag-level messages too */
extern _Atomic unsigned diag_warnings, diag_alerts;

/* When set, also called with every message shown (without the tag), e.g.
 * by the master to send a failed reload's reasons to the log targets. */
extern void (*diag_hook)(enum diag_level lvl, const char *msg);

void diag_msg(enum diag_level lvl, const char *fmt, ...) PRINTF(2, 3);
void diag_vmsg(enum diag_level lvl, const char *fmt, va_list ap);
#define ha_alert(...)   diag_msg(DIAG_ALERT, __VA_ARGS__)
#define ha_warning(...) diag_msg(DIAG_WARNING, __VA_ARGS__)
#define ha_notice(...)  diag_msg(DIAG_NOTICE, __VA_ARGS__)
#define ha_diag(...)    diag_msg(DIAG_DIAG, __VA_ARGS__)

/* Unit tests capture messages instead of printing them: while a capture is
 * set, every message is appended (one line each) to the buffer, truncated at
 * its size. Pass NULL to print to stderr again. */
void diag_capture(char *buf, size_t size);

#endif
