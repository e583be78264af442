/* Health-check engine: scheduling, the check connection, running the
 * program's steps, and turning results into server state with HAProxy's
 * health counter.
 *
 * The counter runs from 0 to rise+fall-1. A server starts UP at "rise"
 * (shown "UP 1/<fall>"), so its first failure takes it down at once, and
 * its first success makes it fully up. While UP, a failure only lowers
 * the counter until it reaches "rise"; the next one marks the server
 * DOWN (counter 0). While DOWN, successes raise it and reaching "rise"
 * marks the server UP (counter at its maximum again).
 *
 * Intervals: inter while fully up, fastinter while going up or down,
 * downinter while down. The check must finish within inter, or, when
 * "timeout check" is set, connect within min(timeout connect, inter) and
 * answer within timeout check.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <proxyd/addr.h>
#include <proxyd/backend.h>
#include <proxyd/check.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>
#include <proxyd/http.h>
#include <proxyd/lb.h>
#include <proxyd/log.h>
#include <proxyd/proxy.h>
#include <proxyd/regex.h>
#include <proxyd/server.h>
#include <proxyd/ssl_sock.h>
#include <proxyd/stream.h>
#include <proxyd/thread.h>

static struct ev_loop *chk_loop;

static const struct {
	const char *code;
	const char *desc;
	int result;              /* 0 failure, 1 success, 2 conditional success */
} statuses[CHK_ST_COUNT] = {
	[CHK_ST_UNKNOWN] = { "UNK",     "Unknown", 0 },
	[CHK_ST_INI]     = { "INI",     "Initializing", 0 },
	[CHK_ST_HANA]    = { "HANA",    "Health analyze", 0 },
	[CHK_ST_SOCKERR] = { "SOCKERR", "Socket error", 0 },
	[CHK_ST_L4OK]    = { "L4OK",    "Layer4 check passed", 1 },
	[CHK_ST_L4TOUT]  = { "L4TOUT",  "Layer4 timeout", 0 },
	[CHK_ST_L4CON]   = { "L4CON",   "Layer4 connection problem", 0 },
	[CHK_ST_L6OK]    = { "L6OK",    "Layer6 check passed", 1 },
	[CHK_ST_L6TOUT]  = { "L6TOUT",  "Layer6 timeout", 0 },
	[CHK_ST_L6RSP]   = { "L6RSP",   "Layer6 invalid response", 0 },
	[CHK_ST_L7TOUT]  = { "L7TOUT",  "Layer7 timeout", 0 },
	[CHK_ST_L7RSP]   = { "L7RSP",   "Layer7 invalid response", 0 },
	[CHK_ST_L7OK]    = { "L7OK",    "Layer7 check passed", 1 },
	[CHK_ST_L7OKC]   = { "L7OKC",   "Layer7 check conditionally passed", 2 },
	[CHK_ST_L7STS]   = { "L7STS",   "Layer7 wrong status", 0 },
};

const char *chk_status_code(enum chk_status st)
{
	return st < CHK_ST_COUNT && statuses[st].code ? statuses[st].code : "UNK";
}

const char *chk_status_desc(enum chk_status st)
{
	return st < CHK_ST_COUNT && statuses[st].desc ? statuses[st].desc : "Unknown";
}

int chk_status_result(enum chk_status st)
{
	return st < CHK_ST_COUNT ? statuses[st].result : 0;
}

static uint64_t now_ms(void)
{
	return (uint64_t)(ev_now(chk_loop) * 1000.0);
}

/*------------------------------------------------------------------------
 * Server state
 */
static int srv_is_up(const struct server *srv)
{
	return srv->state == SRV_ST_RUNNING || srv->state == SRV_ST_STOPPING;
}

const char *srv_status_text(const struct server *srv, char *buf, size_t len)
{
	const struct check *c = &srv->check;
	const struct chk_conf *ck = &srv->c.ck;

	/* as HAProxy's stats: NOLB before DRAIN (drain is only shown for a
	 * running server), and NOLB with or without checks */
	if (srv->admin & SRV_ADMF_MAINT)
		snprintf(buf, len, "MAINT");
	else if (!ck->enabled)
		snprintf(buf, len, !srv_is_up(srv) ? "DOWN" : srv->state == SRV_ST_STOPPING ? "NOLB" :
		                   (srv->admin & SRV_ADMF_DRAIN) ? "DRAIN" : "no check");
	else {
		const char *word = !srv_is_up(srv) ? "DOWN" : srv->state == SRV_ST_STOPPING ? "NOLB" :
		                   (srv->admin & SRV_ADMF_DRAIN) ? "DRAIN" : "UP";
		int top = ck->rise + ck->fall - 1;
		if (srv_is_up(srv) && c->health < top)
			snprintf(buf, len, "%s %d/%d", word, c->health - ck->rise + 1, ck->fall);
		else if (!srv_is_up(srv) && c->health > 0)
			snprintf(buf, len, "%s %d/%d", word, c->health, ck->rise);
		else
			snprintf(buf, len, "%s", word);
	}
	return buf;
}

/* " N active and M backup servers left" and the queue figures. */
static void count_servers(const struct proxy *be, int *act, int *bck)
{
	*act = be->srv_act;
	*bck = be->srv_bck;
}

/* "Backup Server be/s2 is DOWN": HAProxy names backup servers so. */
static const char *srv_prefix(const struct server *srv)
{
	return (srv->c.flags & SRV_F_BACKUP) ? "Backup " : "";
}

/* Said after the server counts when only backup servers take traffic. */
static const char *on_backup(int act, int bck)
{
	return bck && !act ? " Running on backup." : "";
}

/* Kills the streams using <srv> (on-marked-down shutdown-sessions) or the
 * backup servers of <be> (on-marked-up shutdown-backup-sessions): each
 * thread walks its own streams. */
static void shutdown_task(struct thread_ctx *th, struct th_task *t)
{
	struct proxy *be = t->p1;
	struct server *only = t->p2;
	struct stream *s, *tmp;

	list_for_each_safe(s, tmp, &th->streams, list) {
		if (!(s->flags & SF_ASSIGNED) || !s->srv || s->srv->be != be)
			continue;
		if (only ? s->srv != only : !(s->srv->c.flags & SRV_F_BACKUP))
			continue;
		stream_set_term(s, only ? TERM_SRV_DOWN : TERM_SRV_UP, PHASE_DATA);
		s->flags |= SF_KILL;
		stream_wake(s);
	}
}

static void shutdown_sessions(struct proxy *be, struct server *only, int backups)
{
	thread_post_all(shutdown_task, be, only, backups, 0);
}

/* A server went down: its own queue moves to the backend's. */
int srv_requeue(struct server *srv)
{
	int n = 0;

	while (!list_empty(&srv->queue)) {
		struct stream *s = list_first(&srv->queue, struct stream, queue_el);
		/* the stream may belong to another thread: only what the
		 * backend lock protects is changed here, its thread forgets the
		 * server when it leaves the queue (q_requeued) */
		list_del_init(&s->queue_el);
		s->srv_queue_pos += (int)(srv->queue_idx - s->queue_idx) + 1;
		srv->nb_queued--;
		lb_drop(srv);
		s->queue_srv = NULL;
		s->q_direct = 0;
		s->q_requeued = 1;
		list_append(&srv->be->queue, &s->queue_el);
		n++;
	}
	return n;
}

static void describe(const struct check *c, char *buf, size_t len, int with_dur)
{
	size_t n = (size_t)snprintf(buf, len, "reason: %s", chk_status_desc(c->status));
	/* as HAProxy: a code for the results that carry one (L7OK, L7OKC,
	 * L7STS), even 0 (tcp-check), never for the others */
	if (c->status >= CHK_ST_L7OK && n < len)
		n += (size_t)snprintf(buf + n, len - n, ", code: %d", c->code);
	if (c->info[0] && n < len)
		n += (size_t)snprintf(buf + n, len - n, ", info: \"%s\"", c->info);
	if (with_dur && c->duration >= 0 && n < len)
		snprintf(buf + n, len - n, ", check duration: %dms", c->duration);
}

/* The backend has no usable server left (after <srv> went DOWN or NOLB):
 * HAProxy's alert, once per transition. */
static void backend_emptied(struct proxy *be, uint64_t now)
{
	/* HAProxy quotes the name on stderr only */
	ha_alert("backend '%s' has no server available!", be->id);
	log_msg(be, LOGL_EMERG, "backend %s has no server available!", be->id);
	be->chk_down++;
	be->down_since_ms = now;
	be->last_change_ms = now;
}

static void srv_set_down_locked(struct server *srv)
{
	srv_set_down_why(srv, NULL);
}

void srv_set_down_why(struct server *srv, const char *reason)
{
	struct proxy *be = srv->be;
	int log_health = be->c.options & PR_O_LOG_HEALTH;
	int had_servers = be->srv_act || be->srv_bck;
	int was_stopping = srv->state == SRV_ST_STOPPING;
	char why[512] = "";
	int act, bck;
	uint64_t now = now_ms();

	srv->state = SRV_ST_STOPPED;
	srv->chk_down++;
	srv->last_change_ms = now;
	srv->down_since_ms = now;
	lb_server_changed(srv);
	int requeued = srv_requeue(srv);
	if (requeued)
		backend_serve_queues(be);   /* other servers may have room right now */
	int active = srv->served;
	if (srv->c.ck.on_down_shutdown)
		shutdown_sessions(be, srv, 0);
	count_servers(be, &act, &bck);
	if (reason)
		snprintf(why, sizeof(why), ", %s", reason);
	else if (!log_health) {
		describe(&srv->check, why + 2, sizeof(why) - 2, 1);
		why[0] = ',';
		why[1] = ' ';
	}
	log_event(be, was_stopping ? LOGL_NOTICE : LOGL_ALERT, DIAG_WARNING, "%sServer %s/%s is DOWN%s. %d active and %d backup servers left.%s %d sessions "
	          "active, %d requeued, %d remaining in queue.", srv_prefix(srv), be->id, srv->id, why, act, bck,
	          on_backup(act, bck), active, requeued, srv->nb_queued);
	if (!act && !bck && had_servers)
		backend_emptied(be, now);
}

/* disable-on-404: the server stays up but takes no new traffic (NOLB). */
static void srv_set_stopping_locked(struct server *srv)
{
	srv_set_stopping_why(srv, NULL);
}

void srv_set_stopping_why(struct server *srv, const char *reason)
{
	struct proxy *be = srv->be;
	int had_servers = be->srv_act || be->srv_bck;
	char why[512] = "";
	int act, bck;
	uint64_t now = now_ms();

	srv->state = SRV_ST_STOPPING;
	srv->last_change_ms = now;
	lb_server_changed(srv);
	/* its own queue can no longer be served by it */
	int requeued = srv_requeue(srv);
	if (requeued)
		backend_serve_queues(be);
	count_servers(be, &act, &bck);
	if (reason)
		snprintf(why, sizeof(why), ", %s", reason);
	else if (!(be->c.options & PR_O_LOG_HEALTH)) {
		describe(&srv->check, why + 2, sizeof(why) - 2, 1);
		why[0] = ',';
		why[1] = ' ';
	}
	log_event(be, LOGL_NOTICE, DIAG_WARNING, "%sServer %s/%s is stopping%s. %d active and %d backup servers online.%s %d sessions "
	          "requeued, %d total in queue.", srv_prefix(srv), be->id, srv->id, why, act, bck,
	          on_backup(act, bck), requeued, be->nb_queued);
	if (!act && !bck && had_servers)
		backend_emptied(be, now);
}

static void srv_set_up_locked(struct server *srv, int nolb)
{
	struct proxy *be = srv->be;
	int was_empty = !be->srv_act && !be->srv_bck;
	char why[512] = "";
	int act, bck;
	uint64_t now = now_ms();

	srv->state = nolb ? SRV_ST_STOPPING : SRV_ST_RUNNING;
	srv->last_change_ms = now;
	if (srv->down_since_ms) {
		srv->downtime_ms += now - srv->down_since_ms;
		srv->down_since_ms = 0;
	}
	lb_server_changed(srv);
	if (was_empty && (be->srv_act || be->srv_bck) && be->down_since_ms) {
		be->downtime_ms += now - be->down_since_ms;
		be->down_since_ms = 0;
		be->last_change_ms = now;
	}
	if (srv->c.ck.on_up_shutdown_backup && !(srv->c.flags & SRV_F_BACKUP))
		shutdown_sessions(be, NULL, 1);
	/* the waiting streams it takes ("N sessions requeued"): the other
	 * servers had no room, or these would not be waiting */
	int queued = be->nb_queued;
	backend_serve_queues(be);
	int grabbed = queued - be->nb_queued;
	count_servers(be, &act, &bck);
	if (!(be->c.options & PR_O_LOG_HEALTH)) {
		describe(&srv->check, why + 2, sizeof(why) - 2, 1);
		why[0] = ',';
		why[1] = ' ';
	}
	log_event(be, LOGL_NOTICE, DIAG_WARNING, "%sServer %s/%s is %s%s. %d active and %d backup servers online.%s %d sessions "
	          "requeued, %d total in queue.", srv_prefix(srv), be->id, srv->id,
	          nolb ? "UP (leaving forced drain)" : "UP", why, act, bck, on_backup(act, bck), grabbed, be->nb_queued);
}

/* State changes come from the checks (thread 0) or the admin socket, stats
 * page (any thread): under the backend lock, which the data path takes to
 * pick a server or queue. */
void srv_set_down(struct server *srv)
{
	be_lock(srv->be);
	srv_set_down_locked(srv);
	be_unlock(srv->be);
}

void srv_set_stopping(struct server *srv)
{
	be_lock(srv->be);
	srv_set_stopping_locked(srv);
	be_unlock(srv->be);
}

void srv_set_up(struct server *srv, int nolb)
{
	be_lock(srv->be);
	srv_set_up_locked(srv, nolb);
	be_unlock(srv->be);
}

/* Applies a check result to the health counter, logs it (option
 * log-health-checks, when something changed), then changes the server's
 * state if the counter crossed a threshold. */
void chk_apply_result(struct check *c)
{
	struct server *srv = c->srv;
	const struct chk_conf *ck = &srv->c.ck;
	int top = ck->rise + ck->fall - 1;
	int res = chk_status_result(c->status);
	int prev_health = c->health;
	int up = srv_is_up(srv);
	int go_down = 0, go_up = 0;

	if (!res) {
		if (up)
			srv->chk_fail++;
		if (c->health > ck->rise) {
			c->health--;
		} else {
			c->health = 0;
			go_down = up;
		}
	} else {
		if (c->health < top)
			c->health++;
		if (c->health >= ck->rise) {
			c->health = top;
			go_up = !up;
		}
	}
	int up_after = go_up || (up && !go_down);

	if ((srv->be->c.options & PR_O_LOG_HEALTH) && (c->health != prev_health || c->status != c->prev_status)) {
		char why[512];
		describe(c, why, sizeof(why), 1);
		log_event(srv->be, LOGL_NOTICE, DIAG_WARNING, "Health check for %sserver %s/%s %s, %s, status: %d/%d %s.",
		          (srv->c.flags & SRV_F_BACKUP) ? "backup " : "", srv->be->id, srv->id,
		          res == 2 ? "conditionally succeeded" : res ? "succeeded" : "failed", why,
		          up_after ? c->health - ck->rise + 1 : c->health, up_after ? ck->fall : ck->rise,
		          up_after ? "UP" : "DOWN");
	}
	c->prev_status = c->status;

	if (go_down) {
		srv_set_down(srv);
	} else if (go_up) {
		srv_set_up(srv, res == 2);
	} else if (up && res && c->health == top && (res == 2) != (srv->state == SRV_ST_STOPPING)) {
		/* disable-on-404: in and out of NOLB without going down */
		if (res == 2)
			srv_set_stopping(srv);
		else
			srv_set_up(srv, 0);
	}
}

/*------------------------------------------------------------------------
 * Running a check
 */
static void check_io_cb(struct ev_loop *loop, ev_io *w, int revents);
static void check_timer_cb(struct ev_loop *loop, ev_timer *w, int revents);
static void run_steps(struct check *c);

static int interval(const struct check *c)
{
	const struct chk_conf *ck = &c->srv->c.ck;
	int top = ck->rise + ck->fall - 1;
	int ms;

	if (!srv_is_up(c->srv) && c->health == 0)
		ms = ck->downinter ? ck->downinter : ck->inter;
	else if (c->health != top)
		ms = ck->fastinter ? ck->fastinter : ck->inter;
	else
		ms = ck->inter;
	if (global.spread_checks > 0) {
		/* +/- spread_checks percent (HAProxy's range), so that checks
		 * do not align */
		int span = ms * global.spread_checks / 100;
		if (span > 0)
			ms += rand() % (2 * span + 1) - span;
	}
	return ms > 0 ? ms : 1;
}

static void arm_timer(struct check *c, uint64_t at)
{
	uint64_t now = now_ms();
	double after = at > now ? (double)(at - now) / 1000.0 : 0.0;

	ev_timer_stop(chk_loop, &c->timer);
	ev_timer_set(&c->timer, after, 0.);
	ev_timer_start(chk_loop, &c->timer);
}

static void close_conn(struct check *c)
{
	if (c->ssl) {
		if (!c->handshake && SSL_shutdown(c->ssl) < 0)
			ERR_clear_error();
		SSL_free(c->ssl);
		c->ssl = NULL;
		c->handshake = 0;
	}
	if (c->fd >= 0) {
		ev_io_stop(chk_loop, &c->io);
		ev_clear_pending(chk_loop, &c->io);
		close(c->fd);
		c->fd = -1;
	}
	if (c->rx.area) {
		pool_free(&threads[0].pool_buf, c->rx.area);
		c->rx.area = NULL;
	}
	c->rx.start = c->rx.end = 0;
}

/* The end of one check run: result recorded, next run scheduled. */
static void finish(struct check *c, enum chk_status st, int code, const char *info)
{
	close_conn(c);
	c->running = 0;
	c->status = st;
	c->code = code;
	c->duration = (int)(now_ms() - c->start_ms);
	snprintf(c->info, sizeof(c->info), "%s", info ? info : "");
	chk_apply_result(c);
	arm_timer(c, now_ms() + (uint64_t)interval(c));
}

static const struct chk_prog *prog_of(const struct check *c)
{
	return c->srv->be->c.chk;
}

static void want(struct check *c, int events)
{
	ev_io_stop(chk_loop, &c->io);
	if (events) {
		ev_io_set(&c->io, c->fd, events);
		ev_io_start(chk_loop, &c->io);
	}
}

/* The check's I/O, in clear or over TLS, with send(2)/recv(2)'s
 * conventions (-1 and errno EAGAIN when it would block). */
static ssize_t chk_send(struct check *c, const char *buf, size_t len)
{
	if (!c->ssl)
		return send(c->fd, buf, len, MSG_NOSIGNAL);
	int n = SSL_write(c->ssl, buf, (int)len);
	if (n > 0)
		return n;
	int e = SSL_get_error(c->ssl, n);
	ERR_clear_error();
	errno = e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? EAGAIN : EIO;
	return -1;
}

static ssize_t chk_recv(struct check *c, char *buf, size_t len)
{
	if (!c->ssl)
		return recv(c->fd, buf, len, 0);
	int n = SSL_read(c->ssl, buf, (int)len);
	if (n > 0)
		return n;
	int e = SSL_get_error(c->ssl, n);
	ERR_clear_error();
	if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !errno))
		return 0;
	errno = e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? EAGAIN : EIO;
	return -1;
}

/* TLS handshake of a check-ssl connection; then the program runs. */
static void handshake(struct check *c)
{
	int r = SSL_do_handshake(c->ssl);

	if (r == 1) {
		c->handshake = 0;
		run_steps(c);
		return;
	}
	int e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		want(c, e == SSL_ERROR_WANT_READ ? EV_READ : EV_WRITE);
		return;
	}
	char why[256], info[300];
	snprintf(info, sizeof(info), "SSL handshake failure (%s)",
	         ssl_last_error(e == SSL_ERROR_SYSCALL ? "connection closed" : "unknown error", why, sizeof(why)));
	finish(c, CHK_ST_L6RSP, 0, info);
}

static int start_tls(struct check *c)
{
	struct server *srv = c->srv;
	const struct srv_ssl_conf *sc = srv->c.ssl;
	SSL *ssl = SSL_new(srv->ssl->ctx);

	if (!ssl || !SSL_set_fd(ssl, c->fd)) {
		SSL_free(ssl);
		ERR_clear_error();
		return -1;
	}
	SSL_set_connect_state(ssl);
	if (sc && sc->check_sni)
		SSL_set_tlsext_host_name(ssl, sc->check_sni);
	const char *host = srv->ssl->verifyhost ? srv->ssl->verifyhost : sc ? sc->check_sni : NULL;
	if (host && (SSL_CTX_get_verify_mode(srv->ssl->ctx) & SSL_VERIFY_PEER)) {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		SSL_set1_host(ssl, host);
	}
	c->ssl = ssl;
	c->handshake = 1;
	return 0;
}

static void start_check(struct check *c)
{
	struct server *srv = c->srv;
	const struct chk_conf *ck = &srv->c.ck;
	struct sockaddr_storage ss = ck->addr.ss_family ? ck->addr : srv->addr;
	socklen_t len = ck->addr.ss_family ? ck->addrlen : srv->addrlen;
	const struct proxy *be = srv->be;
	uint64_t now = now_ms();
	int port = ck->port;

	const struct chk_prog *p = prog_of(c);
	if (p && p->nb && p->steps[0].type == CHK_CONNECT && p->steps[0].port)
		port = p->steps[0].port;
	if (!port && ck->addr.ss_family)
		port = addr_port((const struct sockaddr *)&srv->addr);   /* "addr" alone: the server's port */
	if (port) {
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		else if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	}

	c->running = 1;
	c->start_ms = now;
	c->step = 0;
	c->tx_off = 0;
	c->connected = 0;
	c->code = 0;
	int to = be->c.to[TO_CHECK] ? MIN(be->c.to[TO_CONNECT] ? be->c.to[TO_CONNECT] : ck->inter, ck->inter)
	                            : ck->inter;
	c->deadline_ms = now + (uint64_t)to;
	arm_timer(c, c->deadline_ms);

	c->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		finish(c, CHK_ST_SOCKERR, 0, strerror(errno));
		return;
	}
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev_io_init(&c->io, check_io_cb, c->fd, 0);
	c->io.data = c;
	if (connect(c->fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		int e = errno;
		finish(c, e == ECONNREFUSED || e == ENETUNREACH || e == EHOSTUNREACH ? CHK_ST_L4CON : CHK_ST_SOCKERR,
		       0, strerror(e));
		return;
	}
	want(c, EV_WRITE);
}

static void connected(struct check *c)
{
	const struct proxy *be = c->srv->be;
	int err = 0;
	socklen_t l = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
		err = errno;
	if (err == EINPROGRESS)
		return;
	if (err) {
		finish(c, CHK_ST_L4CON, 0, strerror(err));
		return;
	}
	c->connected = 1;
	if (be->c.to[TO_CHECK]) {
		/* connected: the answer has its own timeout */
		c->deadline_ms = now_ms() + (uint64_t)be->c.to[TO_CHECK];
		arm_timer(c, c->deadline_ms);
	}
	if (c->srv->c.ck.send_proxy) {
		/* PROXY protocol header first, as traffic would carry it */
		struct sockaddr_storage local, peer;
		socklen_t ll = sizeof(local), pl = sizeof(peer);
		char line[160], a1[64], a2[64];
		int n = 0;
		if (getsockname(c->fd, (struct sockaddr *)&local, &ll) == 0 &&
		    getpeername(c->fd, (struct sockaddr *)&peer, &pl) == 0 &&
		    (local.ss_family == AF_INET || local.ss_family == AF_INET6))
			n = snprintf(line, sizeof(line), "PROXY %s %s %s %d %d\r\n",
			             local.ss_family == AF_INET ? "TCP4" : "TCP6",
			             addr_host_str((struct sockaddr *)&local, a1, sizeof(a1)),
			             addr_host_str((struct sockaddr *)&peer, a2, sizeof(a2)),
			             addr_port((struct sockaddr *)&local), addr_port((struct sockaddr *)&peer));
		else
			n = snprintf(line, sizeof(line), "PROXY UNKNOWN\r\n");
		if (send(c->fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
			finish(c, CHK_ST_SOCKERR, 0, "failed to send the PROXY header");
			return;
		}
	}
	const struct chk_prog *p = prog_of(c);
	if (p && p->nb && p->steps[0].type == CHK_CONNECT)
		c->step = 1;
	if (c->srv->ssl && c->srv->ssl->check_ssl) {
		if (start_tls(c) < 0) {
			finish(c, CHK_ST_SOCKERR, 0, "out of memory for TLS");
			return;
		}
		handshake(c);
		return;
	}
	run_steps(c);
}

/* Reads what the server sent; returns 1 on EOF or error, 0 otherwise. */
static int receive(struct check *c)
{
	struct buf *b = &c->rx;

	if (!b->area) {
		b->area = pool_alloc(&threads[0].pool_buf);
		if (!b->area)
			return 1;
		b->size = (uint32_t)global.bufsize;
		b->start = b->end = 0;
	}
	for (;;) {
		if (b->end >= b->size - 1)
			return 0;   /* full: judge on what is there */
		ssize_t n = chk_recv(c, b->area + b->end, b->size - 1 - b->end);
		if (n > 0) {
			b->end += (uint32_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return 1;
	}
}


static void run_steps(struct check *c)
{
	const struct chk_prog *p = prog_of(c);

	while (c->running) {
		if (!p || c->step >= p->nb) {
			/* every step passed */
			enum chk_status st = !p || !p->nb || (p->nb == 1 && p->steps[0].type == CHK_CONNECT) ?
			                     (c->ssl ? CHK_ST_L6OK : CHK_ST_L4OK) :
			                     p->kind == CHK_KIND_SSL_HELLO ? CHK_ST_L6OK : CHK_ST_L7OK;
			/* tcp-check rules that passed say so, as HAProxy */
			finish(c, st, c->code, p && p->nb && p->kind == CHK_KIND_TCPCHECK ? "(tcp-check)" : NULL);
			return;
		}
		const struct chk_step *st = &p->steps[c->step];
		switch (st->type) {
		case CHK_CONNECT:
			if (c->step) {
				finish(c, CHK_ST_SOCKERR, 0, "a second 'tcp-check connect' is not supported");
				return;
			}
			c->step++;
			break;
		case CHK_SEND:
		case CHK_HTTP_SEND: {
			size_t len = st->len;
			const char *data = st->type == CHK_HTTP_SEND ? chk_http_request(p, &len) : st->data;
			while (c->tx_off < len) {
				ssize_t n = chk_send(c, data + c->tx_off, len - c->tx_off);
				if (n < 0) {
					if (errno == EAGAIN) {
						want(c, EV_WRITE);
						return;
					}
					finish(c, CHK_ST_L7RSP, 0, strerror(errno));
					return;
				}
				c->tx_off += (size_t)n;
			}
			c->tx_off = 0;
			c->step++;
			break;
		}
		case CHK_EXPECT:
		case CHK_HTTP_EXPECT: {
			int eof = receive(c);
			enum chk_status status = CHK_ST_UNKNOWN;
			char info[128] = "";
			int r = st->type == CHK_HTTP_EXPECT ?
			        chk_http_eval(c, st, eof, &status, &c->code, info, sizeof(info)) :
			        chk_tcp_eval(c, st, eof, &status, info, sizeof(info));
			if (r < 0) {
				finish(c, status, c->code, info);
				return;
			}
			if (r == 0) {
				want(c, EV_READ);
				return;
			}
			if (status == CHK_ST_L7OKC) {
				finish(c, status, c->code, info);
				return;
			}
			/* matched: the next expect starts after a new send */
			if (st->type == CHK_EXPECT)
				c->rx.start = c->rx.end = 0;
			c->step++;
			break;
		}
		}
	}
}

static void check_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct check *c = w->data;

	if (!c->connected)
		connected(c);
	else if (c->handshake)
		handshake(c);
	else
		run_steps(c);
}

static void check_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct check *c = w->data;

	if (!c->running) {
		if ((c->srv->admin & SRV_ADMF_MAINT) || c->paused) {
			arm_timer(c, now_ms() + (uint64_t)c->srv->c.ck.inter);   /* paused */
			return;
		}
		start_check(c);
		return;
	}
	if (now_ms() + 1 < c->deadline_ms) {
		arm_timer(c, c->deadline_ms);
		return;
	}
	const struct chk_prog *p = prog_of(c);
	enum chk_status st = !c->connected ? CHK_ST_L4TOUT :
	                     c->handshake || (p && p->kind == CHK_KIND_SSL_HELLO) ||
	                     (c->ssl && (!p || !p->nb)) ? CHK_ST_L6TOUT : CHK_ST_L7TOUT;
	finish(c, st, 0, NULL);
}

int checks_start(struct ev_loop *loop)
{
	struct proxy *px;
	struct server *srv;
	int nb = 0, i = 0;

	chk_loop = loop;
	list_for_each(px, &proxies, list)
		if (px->cap & PR_CAP_BE)
			list_for_each(srv, &px->servers, list)
				nb += srv->c.ck.enabled;
	list_for_each(px, &proxies, list) {
		if (!(px->cap & PR_CAP_BE))
			continue;
		list_for_each(srv, &px->servers, list) {
			struct check *c = &srv->check;
			if (!srv->c.ck.enabled)
				continue;
			c->fd = -1;
			ev_init(&c->timer, check_timer_cb);
			c->timer.data = c;
			/* first runs spread over one interval, not all at once */
			uint64_t offset = nb ? (uint64_t)srv->c.ck.inter * (uint64_t)i / (uint64_t)nb : 0;
			arm_timer(c, now_ms() + offset);
			i++;
		}
	}
	return 0;
}

void check_start_server(struct server *srv)
{
	struct check *c = &srv->check;

	if (!srv->c.ck.enabled || !chk_loop)
		return;
	c->fd = -1;
	ev_init(&c->timer, check_timer_cb);
	c->timer.data = c;
	arm_timer(c, now_ms() + (uint64_t)srv->c.ck.inter);
}

void check_stop_server(struct server *srv)
{
	if (!srv->c.ck.enabled || !chk_loop)
		return;
	close_conn(&srv->check);
	ev_timer_stop(chk_loop, &srv->check.timer);
	ev_clear_pending(chk_loop, &srv->check.timer);
}

void checks_stop(void)
{
	struct proxy *px;
	struct server *srv;

	if (!chk_loop)
		return;
	list_for_each(px, &proxies, list) {
		if (!(px->cap & PR_CAP_BE))
			continue;
		list_for_each(srv, &px->servers, list) {
			if (!srv->c.ck.enabled)
				continue;
			close_conn(&srv->check);
			ev_timer_stop(chk_loop, &srv->check.timer);
		}
	}
	chk_loop = NULL;
}

/* The state a server starts in: UP at the bottom of the healthy range
 * ("UP 1/<fall>"), so that one failed check is enough to take it down. */
void check_init_server(struct server *srv)
{
	struct check *c = &srv->check;

	c->srv = srv;
	c->fd = -1;
	c->status = CHK_ST_INI;
	c->prev_status = CHK_ST_INI;
	c->duration = -1;
	if (srv->c.ck.enabled)
		c->health = srv->c.ck.rise;
}
