/* Address parsing and formatting. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <proxyd/addr.h>
#include <proxyd/compiler.h>

static int parse_port(const char *s, int *port)
{
	char *end;
	long v;

	if (!*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end || errno || v < 0 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* Resolves <host> (a literal or a name, at load time) into <ss>. */
static int resolve_host(const char *host, int family, struct sockaddr_storage *ss, socklen_t *len,
                        char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai, *pick = NULL;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "could not resolve address '%s': %s", host, gai_strerror(rc));
		return -1;
	}
	/* Prefer IPv4 when a name has both, as most configurations expect. */
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
		if (!pick && ai->ai_family == AF_INET6)
			pick = ai;
	}
	if (!pick) {
		freeaddrinfo(res);
		snprintf(err, errlen, "no usable address for '%s'", host);
		return -1;
	}
	memcpy(ss, pick->ai_addr, pick->ai_addrlen);
	*len = pick->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

int addr_parse(const char *text, unsigned flags, struct addr_spec *out, char *err, size_t errlen)
{
	char host[512];
	const char *p = text;
	int family = AF_UNSPEC;
	int port = 0;

	memset(out, 0, sizeof(*out));
	out->fd = -1;

	if (strncmp(p, "ipv4@", 5) == 0) {
		family = AF_INET;
		p += 5;
	} else if (strncmp(p, "ipv6@", 5) == 0) {
		family = AF_INET6;
		p += 5;
	} else if (strncmp(p, "unix@", 5) == 0 || *p == '/') {
		struct sockaddr_un *sun = (struct sockaddr_un *)&out->ss;
		if (*p != '/')
			p += 5;
		if (!*p) {
			snprintf(err, errlen, "missing path in unix address '%s'", text);
			return -1;
		}
		if (strlen(p) >= sizeof(sun->sun_path)) {
			snprintf(err, errlen, "unix socket path too long (max %zu bytes): '%s'",
			         sizeof(sun->sun_path) - 1, p);
			return -1;
		}
		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, p);
		out->len = sizeof(*sun);
		return 0;
	} else if (strncmp(p, "fd@", 3) == 0) {
		char *end;
		long fd;
		struct stat st;

		if (!(flags & ADDR_F_BIND)) {
			snprintf(err, errlen, "'fd@' is only valid for listening addresses");
			return -1;
		}
		errno = 0;
		fd = strtol(p + 3, &end, 10);
		if (p[3] == 0 || *end || errno || fd < 0 || fd > 65535) {
			snprintf(err, errlen, "invalid file descriptor in '%s'", text);
			return -1;
		}
		if (fstat((int)fd, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "'%s': file descriptor %ld is not an open socket "
			         "(was it passed by the parent process?)", text, fd);
			return -1;
		}
		out->fd = (int)fd;
		out->len = sizeof(out->ss);
		if (getsockname(out->fd, (struct sockaddr *)&out->ss, &out->len) < 0)
			out->len = 0;
		return 0;
	} else if (strchr(p, '@')) {
		snprintf(err, errlen, "unsupported address family in '%s' "
		         "(proxyd knows ipv4@, ipv6@, unix@ and fd@)", text);
		return -1;
	}

	/* host part and port: the port follows the last colon; IPv6 literals
	 * may be bracketed. */
	const char *colon;
	if (*p == '[') {
		const char *rb = strchr(p, ']');
		if (!rb) {
			snprintf(err, errlen, "missing ']' in address '%s'", text);
			return -1;
		}
		if ((size_t)(rb - p - 1) >= sizeof(host)) {
			snprintf(err, errlen, "address too long: '%s'", text);
			return -1;
		}
		memcpy(host, p + 1, rb - p - 1);
		host[rb - p - 1] = 0;
		if (family == AF_UNSPEC)
			family = AF_INET6;
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (rb[1] && rb[1] != ':') {
			snprintf(err, errlen, "unexpected characters after ']' in '%s'", text);
			return -1;
		}
	} else {
		colon = strrchr(p, ':');
		size_t hl = colon ? (size_t)(colon - p) : strlen(p);
		if (hl >= sizeof(host)) {
			snprintf(err, errlen, "address too long: '%s'", text);
			return -1;
		}
		memcpy(host, p, hl);
		host[hl] = 0;
	}

	if (colon) {
		if (parse_port(colon + 1, &port) < 0) {
			if (strchr(colon + 1, '-'))
				snprintf(err, errlen, "port ranges are not supported yet in '%s'", text);
			else
				snprintf(err, errlen, "invalid port '%s' in address '%s'", colon + 1, text);
			return -1;
		}
	} else if (flags & ADDR_F_NO_PORT) {
		out->port_missing = 1;
	} else {
		snprintf(err, errlen, "missing port in address '%s' (expected host:port)", text);
		return -1;
	}

	if (!host[0] || strcmp(host, "*") == 0 || strcmp(host, "::") == 0) {
		if (!(flags & ADDR_F_BIND) && !(host[0] == ':')) {
			snprintf(err, errlen, "missing host in address '%s'", text);
			return -1;
		}
		if (strcmp(host, "::") == 0 || family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
			s6->sin6_family = AF_INET6;
			s6->sin6_addr = in6addr_any;
			out->len = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
			s4->sin_family = AF_INET;
			s4->sin_addr.s_addr = htonl(INADDR_ANY);
			out->len = sizeof(*s4);
		}
	} else if (resolve_host(host, family, &out->ss, &out->len, err, errlen) < 0) {
		return -1;
	}
	set_port(&out->ss, port);
	return 0;
}

char *addr_host_str(const struct sockaddr *sa, char *buf, size_t len)
{
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, len);
	else if (sa->sa_family == AF_UNIX)
		snprintf(buf, len, "unix");
	else
		snprintf(buf, len, "-");
	return buf;
}

int addr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

char *addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET)
		snprintf(buf, len, "%s:%d", addr_host_str(sa, host, sizeof(host)), addr_port(sa));
	else if (sa->sa_family == AF_INET6)
		snprintf(buf, len, "[%s]:%d", addr_host_str(sa, host, sizeof(host)), addr_port(sa));
	else if (sa->sa_family == AF_UNIX)
		snprintf(buf, len, "unix");
	else
		snprintf(buf, len, "-");
	return buf;
}

int netmask_parse(const char *text, struct netmask *out, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t hl = slash ? (size_t)(slash - text) : strlen(text);
	int bits, maxbits;

	memset(out, 0, sizeof(*out));
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, text, hl);
	host[hl] = 0;
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		maxbits = 128;
	} else {
		goto bad;
	}
	bits = maxbits;
	if (slash) {
		char *end;
		/* IPv4 masks may also be dotted: 10.0.0.0/255.0.0.0 */
		if (out->family == AF_INET && strchr(slash + 1, '.')) {
			if (inet_pton(AF_INET, slash + 1, out->mask) != 1)
				goto bad;
			for (int i = 0; i < 4; i++)
				out->addr[i] &= out->mask[i];
			return 0;
		}
		bits = (int)strtol(slash + 1, &end, 10);
		if (*end || slash[1] == 0 || bits < 0 || bits > maxbits)
			goto bad;
	}
	for (int i = 0; i < maxbits / 8; i++) {
		int b = bits - i * 8;
		out->mask[i] = b >= 8 ? 0xff : b <= 0 ? 0 : (unsigned char)(0xff << (8 - b));
		out->addr[i] &= out->mask[i];
	}
	return 0;
bad:
	snprintf(err, errlen, "invalid network '%s' (expected ADDR[/MASK])", text);
	return -1;
}

int netmask_match(const struct netmask *nm, const struct sockaddr *sa)
{
	const unsigned char *a;
	int n;

	if (!nm->family)
		return 0;
	if (sa->sa_family == AF_INET && nm->family == AF_INET) {
		a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
		n = 4;
	} else if (sa->sa_family == AF_INET6 && nm->family == AF_INET6) {
		a = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
		n = 16;
	} else {
		return 0;
	}
	for (int i = 0; i < n; i++)
		if ((a[i] & nm->mask[i]) != nm->addr[i])
			return 0;
	return 1;
}
