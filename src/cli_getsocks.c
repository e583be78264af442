/* Handing the listening sockets over to a new process (reload with -x).
 *
 * The new process connects to the old one's admin socket (which must have
 * "expose-fd listeners" and the admin level), sends "_getsocks\n" and
 * receives every frontend listening socket with SCM_RIGHTS (with nbthread,
 * each thread's own socket of an address too: they share one address, and
 * the new process's threads take one each); it puts them
 * in the handover pool (fd_handover.c) where its listeners with the same
 * address take them instead of binding: the kernel's accept queue is
 * shared, so no connection is refused while the old process leaves.
 *
 * Protocol (proxyd to proxyd only, not HAProxy's):
 *   request:  the line "_getsocks"
 *   answer:   one or more batches, each sent with a single sendmsg():
 *               struct gs_head (16 bytes), then <nfds> struct gs_rec
 *               (64 bytes each), the <nfds> sockets attached as
 *               SCM_RIGHTS, in the same order as the records;
 *             batches carry at most GS_BATCH sockets; <first> is the index
 *             of the batch's first socket and <total> the number of
 *             sockets of the whole answer: the last batch is the one
 *             where first + nfds == total (a single empty batch when
 *             there is nothing to send). The old process then closes.
 *   refusal:  a text line (e.g. "Permission denied") instead: the magic
 *             does not match and the new process reports it.
 * The receiver checks the magic and version, that it got exactly <nfds>
 * descriptors, that each is a listening socket of the announced family;
 * otherwise it closes everything received and fails. The admin socket
 * itself is not sent: the new process binds its own.
 *
 * Once the sockets are handed over, the old process no longer removes
 * the files of its unix listeners at exit (the new one accepts on the
 * same sockets, named by the same files). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <proxyd/cli.h>
#include <proxyd/diag.h>
#include <proxyd/fd_handover.h>
#include <proxyd/getsocks.h>
#include <proxyd/global.h>
#include <proxyd/listener.h>
#include <proxyd/proxy.h>

#define GS_MAGIC   0x53475850u   /* "PXGS" little-endian */
#define GS_VERSION 1
#define GS_BATCH   200           /* under the kernel's SCM_MAX_FD (253) */

struct gs_head {
	uint32_t magic;
	uint16_t version;
	uint16_t nfds;
	uint32_t first;
	uint32_t total;
};

struct gs_rec {
	uint32_t family;             /* AF_INET, AF_INET6, AF_UNIX */
	char frontend[60];           /* for messages only */
};

/*------------------------------------------------------------------------
 * Old process: the _getsocks command
 */
static int send_all_msg(int fd, struct msghdr *mh)
{
	size_t want = 0, done = 0;

	for (size_t i = 0; i < mh->msg_iovlen; i++)
		want += mh->msg_iov[i].iov_len;
	/* the ancillary data goes with the first byte; what remains is
	 * plain data, sent with blocking waits of at most 2 s each */
	while (done < want) {
		ssize_t w = sendmsg(fd, mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = { fd, POLLOUT, 0 };
				if (poll(&p, 1, 2000) <= 0)
					return -1;
				continue;
			}
			return -1;
		}
		done += (size_t)w;
		mh->msg_control = NULL;
		mh->msg_controllen = 0;
		size_t skip = (size_t)w;
		while (skip && mh->msg_iovlen) {
			if (skip >= mh->msg_iov[0].iov_len) {
				skip -= mh->msg_iov[0].iov_len;
				mh->msg_iov++;
				mh->msg_iovlen--;
			} else {
				mh->msg_iov[0].iov_base = (char *)mh->msg_iov[0].iov_base + skip;
				mh->msg_iov[0].iov_len -= skip;
				skip = 0;
			}
		}
	}
	return 0;
}

static int send_batch(int fd, const int *fds, const struct gs_rec *recs, int n, uint32_t first, uint32_t total)
{
	struct gs_head h = { GS_MAGIC, GS_VERSION, (uint16_t)n, first, total };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)recs, (size_t)n * sizeof(*recs) } };
	union {
		char buf[CMSG_SPACE(sizeof(int) * GS_BATCH)];
		struct cmsghdr align;
	} cm;
	struct msghdr mh = { 0 };

	mh.msg_iov = iov;
	mh.msg_iovlen = n ? 2 : 1;
	if (n) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)n);
	}
	return send_all_msg(fd, &mh);
}

static enum cli_ret cmd_getsocks(struct cli_ctx *c)
{
	struct proxy *px;
	struct listener *li;
	int fds[GS_BATCH], socks[MAX_LI_SOCKS];
	struct gs_rec recs[GS_BATCH];
	uint32_t total = 0, sent = 0;
	int n = 0, sock = cli_conn_fd(c);

	if (!cli_conn_exposes_fds(c))
		return cli_err(c, "Permission denied (this admin socket has no 'expose-fd listeners')\n");
	if (global.stopping)
		return cli_err(c, "Permission denied (this process is stopping: its sockets are closed)\n");
	list_for_each(px, &proxies, list)
		list_for_each(li, &px->listeners, fe_el)
			total += (uint32_t)listener_sockets(li, socks, MAX_LI_SOCKS);
	list_for_each(px, &proxies, list) {
		list_for_each(li, &px->listeners, fe_el) {
			int ns = listener_sockets(li, socks, MAX_LI_SOCKS);
			for (int i = 0; i < ns; i++) {
				fds[n] = socks[i];
				memset(&recs[n], 0, sizeof(recs[n]));
				recs[n].family = li->addr.ss_family;
				snprintf(recs[n].frontend, sizeof(recs[n].frontend), "%s", px->id);
				if (++n == GS_BATCH) {
					if (send_batch(sock, fds, recs, n, sent, total) < 0)
						goto fail;
					sent += (uint32_t)n;
					n = 0;
				}
			}
		}
	}
	if ((n || !sent) && send_batch(sock, fds, recs, n, sent, total) < 0)
		goto fail;
	global.fds_handed_over = 1;
	ha_notice("listening sockets handed over to a new process (%u)", total);
	cli_conn_close_after(c);
	return CLI_DONE;
fail:
	ha_warning("_getsocks: sending the listening sockets failed: %s", strerror(errno));
	cli_conn_close_after(c);
	return CLI_DONE;
}

static const struct cli_cmd getsocks_cmds[] = {
	{ { "_getsocks" }, NULL, NULL, CLI_LVL_ADMIN, cmd_getsocks },
	{ { NULL } }
};
CLI_REGISTER(getsocks_cmds);

/*------------------------------------------------------------------------
 * New process: -x <socket>
 */
static int recv_exact(int fd, void *buf, size_t len, int *fds, int maxfds, int *nfds)
{
	size_t got = 0;
	union {
		char buf[CMSG_SPACE(sizeof(int) * GS_BATCH)];
		struct cmsghdr align;
	} cm;

	while (got < len) {
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr mh = { 0 };
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		ssize_t r = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			int *in = (int *)CMSG_DATA(c);
			for (int i = 0; i < k; i++) {
				if (fds && *nfds < maxfds)
					fds[(*nfds)++] = in[i];
				else
					close(in[i]);   /* not expected here */
			}
		}
		if (mh.msg_flags & MSG_CTRUNC)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void close_fds(const int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

int getsocks_fetch(const char *path)
{
	struct sockaddr_un sun = { 0 };
	struct timeval tv = { 5, 0 };
	int fd, added = 0;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		ha_alert("-x %s: path too long for a unix socket", path);
		return -1;
	}
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		ha_alert("Failed to connect to the old process socket '%s' (%s).", path, strerror(errno));
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (send(fd, "_getsocks\n", 10, MSG_NOSIGNAL) != 10) {
		ha_alert("Failed to send _getsocks to '%s' (%s).", path, strerror(errno));
		goto fail;
	}
	for (;;) {
		struct gs_head h;
		struct gs_rec recs[GS_BATCH];
		int fds[GS_BATCH], nfds = 0;

		memset(&h, 0, sizeof(h));
		if (recv_exact(fd, &h, sizeof(h), fds, GS_BATCH, &nfds) < 0 || h.magic != GS_MAGIC ||
		    h.version != GS_VERSION || h.nfds > GS_BATCH) {
			/* a refusal is a text line: show it */
			char text[256];
			size_t tl = h.magic ? sizeof(h) : 0;
			memcpy(text, &h, tl);
			while (tl < sizeof(text) - 1 && !memchr(text, '\n', tl)) {
				ssize_t r = recv(fd, text + tl, sizeof(text) - 1 - tl, 0);
				if (r <= 0)
					break;
				tl += (size_t)r;
			}
			text[tl] = 0;
			text[strcspn(text, "\r\n")] = 0;
			if (h.magic == GS_MAGIC)
				text[0] = 0;
			ha_alert("The old process behind '%s' did not hand its sockets over%s%s%s.", path,
			         text[0] ? " (it said: \"" : "", text, text[0] ? "\")" : "");
			close_fds(fds, nfds);
			goto fail;
		}
		if (h.nfds && recv_exact(fd, recs, h.nfds * sizeof(recs[0]), fds, GS_BATCH, &nfds) < 0) {
			ha_alert("Truncated answer from the old process behind '%s'.", path);
			close_fds(fds, nfds);
			goto fail;
		}
		if (nfds != h.nfds) {
			ha_alert("The old process behind '%s' announced %u sockets and sent %d.", path, h.nfds, nfds);
			close_fds(fds, nfds);
			goto fail;
		}
		for (int i = 0; i < nfds; i++) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			recs[i].frontend[sizeof(recs[i].frontend) - 1] = 0;
			if (getsockname(fds[i], (struct sockaddr *)&ss, &sl) < 0 || ss.ss_family != recs[i].family ||
			    handover_add(fds[i]) < 0) {
				ha_warning("-x: socket %d of frontend '%s' from the old process is not a listening socket "
				           "of the announced family: ignored", h.first + (unsigned)i, recs[i].frontend);
				close(fds[i]);
				continue;
			}
			added++;
		}
		if (h.first + h.nfds >= h.total)
			break;
	}
	close(fd);
	ha_diag("-x: %d listening sockets received from '%s'", added, path);
	return added;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}
