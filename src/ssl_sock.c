/* The TLS transport under struct conn (xprt_ssl) and the handshake step.
 *
 * OpenSSL works on the socket directly (socket BIO): no copy through an
 * intermediate buffer. Everything is non-blocking: SSL_read, SSL_write and
 * SSL_do_handshake report WANT_READ / WANT_WRITE, which become the
 * connection's CO_FL_XPRT_* flags, and conn_want() polls for what the
 * transport needs rather than what the owner asked for. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <proxyd/conn.h>
#include <proxyd/global.h>
#include <proxyd/server.h>
#include <proxyd/ssl_sock.h>
#include <proxyd/thread.h>

const char *ssl_last_error(const char *dflt, char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r)
		snprintf(buf, len, "%s", r);
	else if (e)
		snprintf(buf, len, "OpenSSL error %lu", e);
	else
		snprintf(buf, len, "%s", dflt);
	ERR_clear_error();
	return buf;
}

static inline int clamp_len(size_t len)
{
	return len > INT_MAX ? INT_MAX : (int)len;
}

static ssize_t ssl_recv(struct conn *c, char *buf, size_t len)
{
	SSL *ssl = c->xprt_ctx;
	int n;

	c->flags &= ~CO_FL_XPRT_RD_WANT_WR;
	n = SSL_read(ssl, buf, clamp_len(len));
	if (n > 0)
		return n;
	switch (SSL_get_error(ssl, n)) {
	case SSL_ERROR_WANT_READ:
		return -1;
	case SSL_ERROR_WANT_WRITE:
		/* a key update or similar must be answered first */
		c->flags |= CO_FL_XPRT_RD_WANT_WR;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		/* close_notify, or a plain EOF (SSL_OP_IGNORE_UNEXPECTED_EOF):
		 * both are the end of what the peer sends, as for raw TCP */
		c->flags |= CO_FL_RD_SHUT;
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == EAGAIN || errno == EINTR)
			return -1;
		if (!errno) {
			c->flags |= CO_FL_RD_SHUT;
			return 0;
		}
		c->err = errno;
		break;
	default:
		c->err = EIO;
		break;
	}
	ERR_clear_error();
	c->flags |= CO_FL_ERROR;
	return -2;
}

static ssize_t ssl_send(struct conn *c, const char *buf, size_t len)
{
	SSL *ssl = c->xprt_ctx;
	size_t done = 0;

	c->flags &= ~CO_FL_XPRT_WR_WANT_RD;
	/* partial writes are enabled (one record at a time): loop so that one
	 * call sends as much as the socket takes, like a raw send() */
	while (done < len) {
		int n = SSL_write(ssl, buf + done, clamp_len(len - done));
		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		switch (SSL_get_error(ssl, n)) {
		case SSL_ERROR_WANT_WRITE:
			return (ssize_t)done;
		case SSL_ERROR_WANT_READ:
			c->flags |= CO_FL_XPRT_WR_WANT_RD;
			return (ssize_t)done;
		case SSL_ERROR_SYSCALL:
			c->err = errno ? errno : EPIPE;
			break;
		default:
			c->err = EIO;
			break;
		}
		ERR_clear_error();
		c->flags |= CO_FL_ERROR;
		return done ? (ssize_t)done : -2;
	}
	return (ssize_t)done;
}

static void ssl_shutw(struct conn *c)
{
	SSL *ssl = c->xprt_ctx;

	/* close_notify first, so that the peer sees a clean end of data */
	if (!(c->flags & (CO_FL_ERROR | CO_FL_HANDSHAKE)) && SSL_shutdown(ssl) < 0)
		ERR_clear_error();
	shutdown(c->fd, SHUT_WR);
}

static void ssl_close(struct conn *c)
{
	SSL *ssl = c->xprt_ctx;

	if (ssl) {
		if (!(c->flags & (CO_FL_ERROR | CO_FL_HANDSHAKE | CO_FL_WR_SHUT))) {
			/* best effort, never waits: the socket is closed next */
			if (SSL_shutdown(ssl) < 0)
				ERR_clear_error();
		}
		SSL_free(ssl);
		c->xprt_ctx = NULL;
	}
	close(c->fd);
}

static size_t ssl_pending_bytes(const struct conn *c)
{
	return c->xprt_ctx && !(c->flags & CO_FL_HANDSHAKE) ? (size_t)SSL_pending(c->xprt_ctx) : 0;
}

const struct xprt_ops xprt_ssl = {
	.name = "ssl",
	.recv = ssl_recv,
	.send = ssl_send,
	.shutw = ssl_shutw,
	.close = ssl_close,
	.pending = ssl_pending_bytes,
};

/* Common part of both sides: an SSL object on the connection's socket. */
static SSL *wrap(struct conn *c, SSL_CTX *ctx)
{
	SSL *ssl = SSL_new(ctx);

	if (!ssl)
		return NULL;
	if (!SSL_set_fd(ssl, c->fd)) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	SSL_set_app_data(ssl, c);
	c->xprt = &xprt_ssl;
	c->xprt_ctx = ssl;
	c->hs_err = SSL_HS_OK;
	return ssl;
}

int ssl_sock_accept(struct conn *c, struct bind_ssl *bs)
{
	SSL *ssl = wrap(c, bs->def->ctx);

	if (!ssl)
		return -1;
	SSL_set_accept_state(ssl);
	c->flags |= CO_FL_HANDSHAKE | CO_FL_XPRT_WANT_RD;
	return 0;
}

int ssl_sock_connect(struct conn *c, struct server *srv, SSL_CTX *ctx, const char *sni, size_t sni_len,
                     int resume)
{
	struct srv_ssl *st = srv->ssl;
	char name[SNI_NAME_MAX + 1];
	SSL *ssl = wrap(c, ctx);

	if (!ssl)
		return -1;
	SSL_set_connect_state(ssl);
	if (sni && sni_len && sni_len <= SNI_NAME_MAX) {
		memcpy(name, sni, sni_len);
		name[sni_len] = 0;
		SSL_set_tlsext_host_name(ssl, name);
	} else {
		name[0] = 0;
	}
	/* the name the certificate must carry: verifyhost, else the SNI */
	const char *host = st->verifyhost ? st->verifyhost : name[0] ? name : NULL;
	if (host && (SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER)) {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		SSL_set1_host(ssl, host);
	}
	if (resume && st->pt) {
		int tid = curr_th ? curr_th->tid : 0;
		if (st->pt[tid].sess && st->pt[tid].sni_hash == c->sni_hash)
			SSL_set_session(ssl, st->pt[tid].sess);
	}
	c->flags |= CO_FL_HANDSHAKE | CO_FL_XPRT_WANT_WR;
	return 0;
}

int ssl_sock_handshake(struct conn *c)
{
	SSL *ssl = c->xprt_ctx;
	int r;

	c->flags &= ~(CO_FL_XPRT_WANT_RD | CO_FL_XPRT_WANT_WR);
	errno = 0;
	r = SSL_do_handshake(ssl);
	if (r == 1) {
		c->flags &= ~CO_FL_HANDSHAKE;
		return 1;
	}
	int e = SSL_get_error(ssl, r);
	if (e == SSL_ERROR_WANT_READ) {
		c->flags |= CO_FL_XPRT_WANT_RD;
		return 0;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		c->flags |= CO_FL_XPRT_WANT_WR;
		return 0;
	}
	if (!c->hs_err) {
		if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !errno && !ERR_peek_error())) {
			c->hs_err = SSL_HS_EMPTY;
		} else if (e == SSL_ERROR_SYSCALL && errno) {
			c->hs_err = SSL_HS_ABORT;
			c->err = errno;
		} else {
			c->hs_err = SSL_HS_FAIL;
			/* the reason, packed, for the log line (fits an int in 3.x) */
			c->err = (int)(ERR_peek_last_error() & 0x7fffffff);
		}
	}
	ERR_clear_error();
	c->flags |= CO_FL_ERROR;
	return -1;
}

const char *ssl_sock_hs_error(const struct conn *c, char *buf, size_t len)
{
	const char *r;

	switch (c->hs_err) {
	case SSL_HS_TIMEOUT:
		return "Timeout during SSL handshake";
	case SSL_HS_EMPTY:
		return "Connection closed during SSL handshake";
	case SSL_HS_ABORT:
		snprintf(buf, len, "Connection error during SSL handshake (%s)", strerror(c->err));
		return buf;
	case SSL_HS_CRT_FAIL:
		return "SSL client certificate not trusted";
	case SSL_HS_CA_FAIL:
		return "SSL client CA chain cannot be verified";
	case SSL_HS_NO_SNI:
		return "SSL handshake failure (no certificate for the requested server name, strict-sni)";
	default:
		r = c->err ? ERR_reason_error_string((unsigned long)c->err) : NULL;
		if (!r)
			return "SSL handshake failure";
		snprintf(buf, len, "SSL handshake failure (%s)", r);
		return buf;
	}
}

int ssl_sock_idle_alive(struct conn *c)
{
	SSL *ssl = c->xprt_ctx;
	char b;
	int n = SSL_peek(ssl, &b, 1);

	if (n > 0)
		return 0;   /* the server has no business sending data now */
	int e = SSL_get_error(ssl, n);
	ERR_clear_error();
	/* WANT_READ: only records without data (a session ticket) came */
	return e == SSL_ERROR_WANT_READ;
}
