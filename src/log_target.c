/* Log targets: the "log" lines of the global section and of proxies, the
 * syslog headers of each format, and the non-blocking sends.
 *
 * Every send is one datagram (or one write() of a whole line on
 * stdout/stderr) made with MSG_DONTWAIT / O_NONBLOCK: when the receiver
 * cannot take it right now, the line is dropped and counted, so a dead or
 * slow syslog never stalls the event loop and nothing accumulates. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <proxyd/addr.h>
#include <proxyd/cfg.h>
#include <proxyd/log.h>
#include <proxyd/proxy.h>

struct log_global log_global;

static const char *const facilities[24] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "auth2", "ftp",
	"ntp", "audit", "alert", "cron2", "local0", "local1", "local2", "local3", "local4", "local5",
	"local6", "local7",
};
static const char *const levels[8] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };
static const char *const formats[] = {
	[LOGF_RFC3164] = "rfc3164", [LOGF_RFC5424] = "rfc5424", [LOGF_SHORT] = "short",
	[LOGF_PRIORITY] = "priority", [LOGF_TIMED] = "timed", [LOGF_ISO] = "iso", [LOGF_RAW] = "raw",
};

static int find_word(const char *const *words, int nb, const char *w)
{
	for (int i = 0; i < nb; i++)
		if (words[i] && !strcmp(words[i], w))
			return i;
	return -1;
}

/*------------------------------------------------------------------------
 * Configuration
 */
static int parse_dest(struct cfg_ctx *ctx, const char *text, struct log_target *t)
{
	char err[256];
	struct addr_spec a;
	const char *p = text;

	if (!strcmp(p, "stdout") || !strcmp(p, "fd@1") || !strcmp(p, "stderr") || !strcmp(p, "fd@2")) {
		t->dest = LOGD_FD;
		t->fd = (p[3] == 'o' || p[3] == '1') ? 1 : 2;
		return 0;
	}
	if (!strncmp(p, "ring@", 5) || !strncmp(p, "fd@", 3)) {
		cfg_alert(ctx, "'log %s': rings and other fd@ targets are valid in HAProxy but not supported yet by "
		          "proxyd (use stdout, stderr, a unix socket or a UDP address)", text);
		return -1;
	}
	if (p[0] == '/' || !strncmp(p, "unix@", 5)) {
		const char *path = p[0] == '/' ? p : p + 5;
		struct sockaddr_un *un = (struct sockaddr_un *)&t->addr;
		if (strlen(path) >= sizeof(un->sun_path)) {
			cfg_alert(ctx, "'log %s': socket path too long (at most %zu bytes)", text, sizeof(un->sun_path) - 1);
			return -1;
		}
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, path);
		t->addrlen = (socklen_t)sizeof(*un);
		t->dest = LOGD_UNIX;
		return 0;
	}
	/* udp@, udp4@, udp6@ name UDP explicitly; a bare address is UDP too */
	static const char *const udp_prefixes[] = { "udp@", "udp4@", "udp6@" };
	char buf[300];
	for (size_t i = 0; i < 3; i++) {
		size_t l = strlen(udp_prefixes[i]);
		if (!strncmp(p, udp_prefixes[i], l)) {
			snprintf(buf, sizeof(buf), "%s%s", i == 1 ? "ipv4@" : i == 2 ? "ipv6@" : "", p + l);
			p = buf;
			break;
		}
	}
	if (!strncmp(p, "tcp@", 4) || !strncmp(p, "tcp4@", 5) || !strncmp(p, "tcp6@", 5)) {
		cfg_alert(ctx, "'log %s': TCP syslog (through a ring) is valid in HAProxy but not supported yet by "
		          "proxyd (use UDP or a unix socket)", text);
		return -1;
	}
	if (addr_parse(p, ADDR_F_NO_PORT, &a, err, sizeof(err)) < 0) {
		cfg_alert(ctx, "'log %s': %s (expected an address like 127.0.0.1:514, udp@host:port, a unix socket "
		          "path, stdout or stderr)", text, err);
		return -1;
	}
	if (a.ss.ss_family != AF_INET && a.ss.ss_family != AF_INET6) {
		cfg_alert(ctx, "'log %s': a syslog address must be IPv4, IPv6 or a unix socket path", text);
		return -1;
	}
	if (a.port_missing) {
		if (a.ss.ss_family == AF_INET)
			((struct sockaddr_in *)&a.ss)->sin_port = htons(514);
		else
			((struct sockaddr_in6 *)&a.ss)->sin6_port = htons(514);
	}
	t->addr = a.ss;
	t->addrlen = a.len;
	t->dest = LOGD_UDP;
	return 0;
}

static struct log_target *parse_target(struct cfg_ctx *ctx, char **args, int nargs)
{
	struct log_target *t = cfg_alloc(sizeof(*t));
	int i = 1;

	t->fd = -1;
	t->fmt = LOGF_LOCAL;
	t->maxlen = 1024;
	t->level = LOGL_DEBUG;
	t->minlevel = LOGL_EMERG;
	t->text = cfg_strdup(args[0]);
	if (parse_dest(ctx, args[0], t) < 0)
		return NULL;
	while (i < nargs) {
		if (!strcmp(args[i], "len") && i + 1 < nargs) {
			ctx->kw = "log len";
			if (cfg_int_arg(ctx, args[i + 1], 80, 65535, &t->maxlen) < 0)
				return NULL;
			i += 2;
		} else if (!strcmp(args[i], "format") && i + 1 < nargs) {
			int f = find_word(formats, (int)(sizeof(formats) / sizeof(formats[0])), args[i + 1]);
			if (f < 0) {
				cfg_alert(ctx, "'log %s format %s': unknown format (expected rfc3164, rfc5424, short, priority, "
				          "timed, iso or raw)", args[0], args[i + 1]);
				return NULL;
			}
			t->fmt = (enum log_fmt)f;
			i += 2;
		} else if (!strcmp(args[i], "sample")) {
			cfg_alert(ctx, "'log ... sample' is valid in HAProxy but not supported yet by proxyd");
			return NULL;
		} else {
			break;
		}
	}
	if (i >= nargs) {
		cfg_alert(ctx, "'log %s': missing the facility (e.g. 'log %s local0')", args[0], args[0]);
		return NULL;
	}
	t->facility = find_word(facilities, 24, args[i]);
	if (t->facility < 0) {
		cfg_alert(ctx, "'log %s': unknown facility '%s' (expected kern, user, mail, daemon, auth, syslog, lpr, "
		          "news, uucp, cron, auth2, ftp, ntp, audit, alert, cron2 or local0 to local7)", args[0], args[i]);
		return NULL;
	}
	i++;
	for (int k = 0; k < 2 && i < nargs; k++, i++) {
		int l = find_word(levels, 8, args[i]);
		if (l < 0) {
			cfg_alert(ctx, "'log %s': unknown level '%s' (expected emerg, alert, crit, err, warning, notice, "
			          "info or debug)", args[0], args[i]);
			return NULL;
		}
		if (k == 0)
			t->level = l;
		else
			t->minlevel = l;
	}
	if (i < nargs) {
		cfg_alert(ctx, "'log %s': unexpected '%s' after the levels", args[0], args[i]);
		return NULL;
	}
	return t;
}

/* Sections share their lists with the sections that inherit them: a
 * change makes a copy first. */
static struct log_list *list_copy(const struct log_list *l)
{
	struct log_list *n = cfg_alloc(sizeof(*n));
	if (l)
		*n = *l;
	return n;
}

static int parse_log(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	int global_sec = ctx->sec == CFG_SEC_GLOBAL;
	struct log_list *l;

	if (ctx->inv) {
		if (global_sec)
			memset(&log_global.list, 0, sizeof(log_global.list));
		else
			ctx->px->c.logs = NULL;
		return 0;
	}
	if (nargs < 1) {
		cfg_alert(ctx, "'log' expects 'global' or a target and a facility (e.g. 'log 127.0.0.1:514 local0')");
		return -1;
	}
	if (!strcmp(args[0], "global")) {
		if (global_sec) {
			cfg_alert(ctx, "'log global' is for proxies: the global section declares the targets themselves");
			return -1;
		}
		if (nargs > 1) {
			cfg_alert(ctx, "'log global' takes no argument");
			return -1;
		}
		l = list_copy(ctx->px->c.logs);
		l->use_global = 1;
		ctx->px->c.logs = l;
		return 0;
	}
	struct log_target *t = parse_target(ctx, args, nargs);
	if (!t)
		return -1;
	if (global_sec) {
		l = &log_global.list;
	} else {
		l = list_copy(ctx->px->c.logs);
		ctx->px->c.logs = l;
	}
	if (l->nb >= LOG_TARGETS_MAX) {
		cfg_alert(ctx, "'log': at most %d targets per section", LOG_TARGETS_MAX);
		return -1;
	}
	l->t[l->nb++] = t;
	return 0;
}

static int parse_log_tag(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	if (ctx->sec == CFG_SEC_GLOBAL)
		log_global.tag = cfg_strdup(args[0]);
	else
		ctx->px->c.log_tag = cfg_strdup(args[0]);
	return 0;
}

static int parse_send_hostname(struct cfg_ctx *ctx, const struct cfg_kw *kw, char **args, int nargs)
{
	char host[256];

	if (nargs) {
		log_global.hostname = cfg_strdup(args[0]);
		return 0;
	}
	if (gethostname(host, sizeof(host)) < 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = 0;
	log_global.hostname = cfg_strdup(host);
	return 0;
}

static const struct cfg_kw log_target_kws[] = {
	{ "log", CFG_SEC_GLOBAL | CFG_SEC_PX, 0, -1, parse_log, SLOT_NONE, TGT_PROXY, 0, 0, 0, KW_F_NO,
	  "global | <target> [len <n>] [format <fmt>] <facility> [<level> [<minlevel>]]" },
	{ "log-tag", CFG_SEC_GLOBAL | CFG_SEC_PX, 1, 1, parse_log_tag, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0, "<tag>" },
	{ "log-send-hostname", CFG_SEC_GLOBAL, 0, 1, parse_send_hostname, SLOT_NONE, TGT_PROXY, 0, 0, 0, 0,
	  "[<name>]" },
	{ NULL }
};

CFG_REGISTER(log_target_kws);

/*------------------------------------------------------------------------
 * Sending
 */
static int open_target(struct log_target *t)
{
	if (t->dest == LOGD_FD) {
		/* a full pipe must drop lines, not stop the loop */
		int fl = fcntl(t->fd, F_GETFL);
		if (fl >= 0)
			fcntl(t->fd, F_SETFL, fl | O_NONBLOCK);
		return 0;
	}
	if (t->fd >= 0)
		return 0;
	t->fd = socket(t->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		ha_alert("log target '%s': cannot create a socket: %s", t->text, strerror(errno));
		return -1;
	}
	return 0;
}

int log_targets_open(void)
{
	struct proxy *px;
	int err = 0;

	for (int i = 0; i < log_global.list.nb; i++)
		err |= open_target(log_global.list.t[i]);
	list_for_each(px, &proxies, list)
		for (int i = 0; px->c.logs && i < px->c.logs->nb; i++)
			err |= open_target(px->c.logs->t[i]);
	return err ? -1 : 0;
}

void log_targets_close(void)
{
	struct proxy *px;
	struct log_target *t;

	for (int i = 0; i < log_global.list.nb; i++) {
		t = log_global.list.t[i];
		if (t->dest != LOGD_FD && t->fd >= 0)
			close(t->fd);
		t->fd = t->dest == LOGD_FD ? t->fd : -1;
	}
	list_for_each(px, &proxies, list) {
		for (int i = 0; px->c.logs && i < px->c.logs->nb; i++) {
			t = px->c.logs->t[i];
			if (t->dest != LOGD_FD && t->fd >= 0)
				close(t->fd);
			t->fd = t->dest == LOGD_FD ? t->fd : -1;
		}
	}
}

int log_has_targets(const struct proxy *px)
{
	const struct log_list *l = px ? px->c.logs : &log_global.list;

	if (!l)
		return 0;
	return l->nb > 0 || (l->use_global && log_global.list.nb > 0);
}

static int list_has_stderr(const struct log_list *l)
{
	for (int i = 0; l && i < l->nb; i++)
		if (l->t[i]->dest == LOGD_FD && l->t[i]->fd == 2)
			return 1;
	return 0;
}

int log_writes_stderr(const struct proxy *px)
{
	const struct log_list *l = px->c.logs;

	return l && (list_has_stderr(l) || (l->use_global && list_has_stderr(&log_global.list)));
}

/* The dates of the headers, rebuilt once per second at most, by each
 * thread for itself. */
static __thread struct {
	time_t sec;
	char rfc3164[20];             /* "Nov  5 20:38:57" */
	char iso_tz[24];              /* "+00:00" */
	struct tm tm;
} hdr_time;

static void refresh_time(const struct timeval *tv)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	if (tv->tv_sec == hdr_time.sec)
		return;
	hdr_time.sec = tv->tv_sec;
	localtime_r(&tv->tv_sec, &hdr_time.tm);
	snprintf(hdr_time.rfc3164, sizeof(hdr_time.rfc3164), "%s %2d %02d:%02d:%02d", mon[hdr_time.tm.tm_mon],
	         hdr_time.tm.tm_mday, hdr_time.tm.tm_hour, hdr_time.tm.tm_min, hdr_time.tm.tm_sec);
	long off = hdr_time.tm.tm_gmtoff;
	snprintf(hdr_time.iso_tz, sizeof(hdr_time.iso_tz), "%c%02d:%02d", off < 0 ? '-' : '+',
	         (int)(labs(off) / 3600 % 100), (int)(labs(off) / 60 % 60));
}

static int iso_date(char *out, size_t size, const struct timeval *tv)
{
	const struct tm *tm = &hdr_time.tm;
	return snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld%s", tm->tm_year + 1900, tm->tm_mon + 1,
	                tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, (long)tv->tv_usec, hdr_time.iso_tz);
}

static size_t build_header(const struct log_target *t, int level, const char *tag, const struct timeval *tv,
                           char *out, size_t size, const char *sd, size_t sdlen)
{
	int pri = t->facility * 8 + level, n = 0;
	char date[96];

	switch (t->fmt) {
	case LOGF_RFC3164:
	case LOGF_LOCAL: {
		/* "format rfc3164" always names a host, as the RFC wants; without
		 * a format, only log-send-hostname adds one (HAProxy's lines) */
		const char *host = log_global.hostname ? log_global.hostname : t->fmt == LOGF_RFC3164 ? "localhost" : NULL;
		n = snprintf(out, size, "<%d>%s %s%s%s[%d]: ", pri, hdr_time.rfc3164, host ? host : "", host ? " " : "",
		             tag, (int)getpid());
		break;
	}
	case LOGF_RFC5424:
		iso_date(date, sizeof(date), tv);
		n = snprintf(out, size, "<%d>1 %s %s %s %d - %.*s ", pri, date,
		             log_global.hostname ? log_global.hostname : "-", tag, (int)getpid(),
		             sd && sdlen ? (int)sdlen : 1, sd && sdlen ? sd : "-");
		break;
	case LOGF_SHORT:
		n = snprintf(out, size, "<%d>", level);
		break;
	case LOGF_PRIORITY:
		n = snprintf(out, size, "<%d>", pri);
		break;
	case LOGF_TIMED:
		iso_date(date, sizeof(date), tv);
		n = snprintf(out, size, "<%d>%s ", level, date);
		break;
	case LOGF_ISO:
		iso_date(date, sizeof(date), tv);
		n = snprintf(out, size, "%s ", date);
		break;
	case LOGF_RAW:
		n = 0;
		break;
	}
	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

static void send_one(struct log_target *t, int level, const char *tag, const struct timeval *tv, const char *msg,
                     size_t len, const char *sd, size_t sdlen)
{
	char line[65536 + 512];
	/* As HAProxy: a datagram holds up to <len> bytes then the newline, a
	 * line on stdout/stderr is <len> bytes newline included. */
	size_t max = (size_t)t->maxlen + (t->dest == LOGD_FD ? 0 : 1);

	if (level > t->level)
		return;
	if (level < t->minlevel)
		level = t->minlevel;
	size_t h = build_header(t, level, tag, tv, line, max, sd, sdlen);
	size_t room = max - h - 1;
	if (len > room)
		len = room;
	memcpy(line + h, msg, len);
	line[h + len] = '\n';
	size_t total = h + len + 1;

	ssize_t w;
	if (t->dest == LOGD_FD)
		w = write(t->fd, line, total);
	else
		w = sendto(t->fd, line, total, MSG_DONTWAIT | MSG_NOSIGNAL, (const struct sockaddr *)&t->addr, t->addrlen);
	if (w < 0) {
		t->dropped++;
		log_global.dropped++;
	} else {
		t->sent++;
	}
}

static void send_list(const struct log_list *l, int level, const char *tag, const struct timeval *tv,
                      const char *msg, size_t len, const char *sd, size_t sdlen)
{
	for (int i = 0; i < l->nb; i++)
		if (l->t[i]->fd >= 0)
			send_one(l->t[i], level, tag, tv, msg, len, sd, sdlen);
}

void log_send(const struct proxy *px, int level, const char *msg, size_t len, const char *sd, size_t sdlen)
{
	const struct log_list *l = px ? px->c.logs : &log_global.list;
	const char *tag = px && px->c.log_tag ? px->c.log_tag : log_global.tag ? log_global.tag : "proxyd";
	struct timeval tv;

	if (!l)
		return;
	/* blanks ending the structured data are not kept, as HAProxy */
	while (sd && sdlen && sd[sdlen - 1] == ' ')
		sdlen--;
	gettimeofday(&tv, NULL);
	refresh_time(&tv);
	send_list(l, level, tag, &tv, msg, len, sd, sdlen);
	if (px && l->use_global)
		send_list(&log_global.list, level, tag, &tv, msg, len, sd, sdlen);
}
