/* Socket addresses as the configuration writes them: "*:80", "1.2.3.4:80",
 * ":::80", "[::1]:80", "ipv4@", "ipv6@", "unix@/path", "fd@3", host names
 * (resolved at load time, never at run time). */
#ifndef PROXYD_ADDR_H
#define PROXYD_ADDR_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Big enough for IPv4, IPv6 and the family of a unix peer; 28 bytes instead
 * of sockaddr_storage's 128, since every connection carries two of them. */
union sockaddr_any {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

enum {
	ADDR_F_BIND     = 1 << 0,  /* listening: "*:80", ":80", "fd@N" allowed */
	ADDR_F_NO_PORT  = 1 << 1,  /* the port may be omitted (servers: same as client's dst) */
};

struct addr_spec {
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;                    /* fd@N: the inherited socket, else -1 */
	int port_missing;          /* no port given (ADDR_F_NO_PORT) */
};

/* Parses <text>. Returns 0, or -1 with the reason in <err>. */
int addr_parse(const char *text, unsigned flags, struct addr_spec *out, char *err, size_t errlen);

/* "1.2.3.4:80", "[::1]:80", "unix", "fd" — as HAProxy's stats "addr" column. */
char *addr_str(const struct sockaddr *sa, char *buf, size_t len);
/* Only the host part, without port or brackets ("1.2.3.4", "::1"). */
char *addr_host_str(const struct sockaddr *sa, char *buf, size_t len);
int addr_port(const struct sockaddr *sa);

/* A network and mask, for "option forwardfor except 127.0.0.0/8". */
struct netmask {
	int family;                 /* 0 when unset */
	unsigned char addr[16];
	unsigned char mask[16];
};
int netmask_parse(const char *text, struct netmask *out, char *err, size_t errlen);
int netmask_match(const struct netmask *nm, const struct sockaddr *sa);

#endif
