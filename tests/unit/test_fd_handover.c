/* Unit tests for src/fd_handover.c: a handed-over listening socket is
 * found again by its exact address (IPv4, IPv6, unix path), only once;
 * a socket that does not listen is refused; what no listener took is
 * closed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include <proxyd/fd_handover.h>

static int listen_on(struct sockaddr_storage *ss, socklen_t *len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)ss, *len), 0);
	assert_int_equal(listen(fd, 4), 0);
	*len = sizeof(*ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)ss, len), 0);
	return fd;
}

static void test_take_by_address(void **state)
{
	struct sockaddr_storage a4 = { 0 }, a6 = { 0 }, other;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&a4;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a6;
	socklen_t l4 = sizeof(*s4), l6 = sizeof(*s6);

	s4->sin_family = AF_INET;
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s6->sin6_family = AF_INET6;
	s6->sin6_addr = in6addr_loopback;
	int f4 = listen_on(&a4, &l4);
	int f6 = listen_on(&a6, &l6);
	assert_int_equal(handover_add(f4), 0);
	assert_int_equal(handover_add(f6), 0);
	assert_int_equal(handover_count(), 2);

	other = a4;
	((struct sockaddr_in *)&other)->sin_port = htons(ntohs(s4->sin_port) ^ 1);
	assert_int_equal(handover_take(&other), -1);       /* another port */
	assert_int_equal(handover_take(&a6), f6);
	assert_int_equal(handover_take(&a6), -1);          /* taken once */
	assert_int_equal(handover_take(&a4), f4);
	assert_int_equal(handover_count(), 0);
	close(f4);
	close(f6);
}

static void test_unix_path_and_refusal(void **state)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_un *su = (struct sockaddr_un *)&ss;
	socklen_t len = sizeof(*su);
	char dir[] = "/tmp/proxyd-fdh-XXXXXX";

	assert_non_null(mkdtemp(dir));
	su->sun_family = AF_UNIX;
	snprintf(su->sun_path, sizeof(su->sun_path), "%s/s", dir);
	int fu = listen_on(&ss, &len);
	int plain = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(handover_add(plain), -1);              /* not listening */
	assert_int_equal(handover_add(fu), 0);
	handover_close_unused();
	assert_int_equal(handover_count(), 0);
	assert_int_equal(fcntl(fu, F_GETFD), -1);               /* closed */
	close(plain);
	unlink(su->sun_path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_take_by_address),
		cmocka_unit_test(test_unix_path_and_refusal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
