/* Diagnostics printed in HAProxy's layout, optionally captured by tests. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <proxyd/diag.h>

int diag_quiet;
int diag_verbose;
_Atomic unsigned diag_warnings, diag_alerts;
void (*diag_hook)(enum diag_level lvl, const char *msg);

static char *capture_buf;
static size_t capture_size;

void diag_capture(char *buf, size_t size)
{
	capture_buf = buf;
	capture_size = size;
	if (buf && size)
		buf[0] = 0;
}

/* The tag is padded to HAProxy's width so that columns line up the same way
 * in both programs' output, which scripts and eyes rely on. */
static const char *const tags[] = {
	[DIAG_DIAG]    = "[DIAG]     ",
	[DIAG_NOTICE]  = "[NOTICE]   ",
	[DIAG_WARNING] = "[WARNING]  ",
	[DIAG_ALERT]   = "[ALERT]    ",
};

void diag_vmsg(enum diag_level lvl, const char *fmt, va_list ap)
{
	if (lvl == DIAG_WARNING)
		diag_warnings++;
	else if (lvl == DIAG_ALERT)
		diag_alerts++;

	if (capture_buf) {
		size_t len = strlen(capture_buf);
		if (len + 1 < capture_size) {
			vsnprintf(capture_buf + len, capture_size - len, fmt, ap);
			len = strlen(capture_buf);
			if (len + 1 < capture_size && (len == 0 || capture_buf[len - 1] != '\n')) {
				capture_buf[len] = '\n';
				capture_buf[len + 1] = 0;
			}
		}
		return;
	}
	if (lvl == DIAG_DIAG && !diag_verbose)
		return;
	if (diag_quiet && lvl < DIAG_ALERT)
		return;

	char line[4096];
	int n = snprintf(line, sizeof(line), "%s(%d) : ", tags[lvl], (int)getpid());
	int prefix = n;
	int m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (n >= (int)sizeof(line) - 1)
		n = sizeof(line) - 2;
	if (line[n - 1] != '\n')
		line[n++] = '\n';
	if (diag_hook) {
		line[n - 1] = 0;
		diag_hook(lvl, line + prefix);
		line[n - 1] = '\n';
	}
	/* One write per message so that concurrent processes do not interleave. */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

void diag_msg(enum diag_level lvl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vmsg(lvl, fmt, ap);
	va_end(ap);
}
