/* sd_notify protocol (see sd_notify.h). The manager passes the socket in
 * $NOTIFY_SOCKET: an absolute path, or a name in the abstract namespace
 * when it starts with '@'. Each message is a single datagram; the manager
 * reads the sender's pid from the socket credentials, so nothing else is
 * needed. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <proxyd/sd_notify.h>

/* systemd's own limit for one notification is far larger, but what
 * proxyd says (READY=1, STATUS=..., MAINPID=...) is short. */
#define SD_MSG_MAX 4096

/* Fills <sun> from the variable's value; the address length, or -errno. */
static int notify_addr(const char *name, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(name);

	if ((name[0] != '/' && name[0] != '@') || n < 2)
		return -EINVAL;
	if (n > sizeof(sun->sun_path))
		return -EINVAL;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, name, n);
	if (name[0] == '@') {
		/* abstract: a leading NUL, and the length says where it ends */
		sun->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		if (n == sizeof(sun->sun_path))
			return -EINVAL;   /* no room for the terminating NUL */
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

int sd_notifyf(const char *fmt, ...)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t alen;
	char msg[SD_MSG_MAX];
	va_list ap;
	int n, ret, fd;

	if (!name || !*name)
		return 0;
	ret = notify_addr(name, &sun, &alen);
	if (ret < 0)
		return ret;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= sizeof(msg))
		return -EMSGSIZE;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* MSG_DONTWAIT: a stuck manager must never stall the event loop */
	ssize_t sent = sendto(fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&sun, alen);
	ret = sent < 0 ? -errno : 1;
	close(fd);
	return ret;
}
