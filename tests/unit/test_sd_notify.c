/* Unit tests for src/sd_notify.c: a fake service manager (a datagram
 * socket, by path or in the abstract namespace) receives what
 * sd_notifyf() sends. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <proxyd/sd_notify.h>

struct fake {
	int fd;
	char name[108];   /* as put in NOTIFY_SOCKET */
	char dir[64];
};

/* A bound datagram socket; <abstract>: '@' name, else a file in a
 * temporary directory. */
static void fake_open(struct fake *f, int abstract)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;

	f->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(f->fd >= 0);
	f->dir[0] = '\0';
	if (abstract) {
		snprintf(f->name, sizeof(f->name), "@proxyd-test-notify-%d", (int)getpid());
		memcpy(sun.sun_path + 1, f->name + 1, strlen(f->name) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(f->name));
	} else {
		snprintf(f->dir, sizeof(f->dir), "/tmp/proxyd-notify-XXXXXX");
		assert_non_null(mkdtemp(f->dir));
		snprintf(f->name, sizeof(f->name), "%s/notify", f->dir);
		strcpy(sun.sun_path, f->name);
		len = sizeof(sun);
	}
	assert_int_equal(bind(f->fd, (struct sockaddr *)&sun, len), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", f->name, 1), 0);
}

static void fake_close(struct fake *f)
{
	close(f->fd);
	if (f->dir[0]) {
		unlink(f->name);
		rmdir(f->dir);
	}
	unsetenv("NOTIFY_SOCKET");
}

/* The next datagram, waiting at most one second. */
static void fake_expect(struct fake *f, const char *want)
{
	struct pollfd p = { .fd = f->fd, .events = POLLIN };
	char buf[8192];

	assert_int_equal(poll(&p, 1, 1000), 1);
	ssize_t n = recv(f->fd, buf, sizeof(buf) - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_unset_is_noop(void **state)
{
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(sd_notifyf("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(sd_notifyf("READY=1"), 0);
	unsetenv("NOTIFY_SOCKET");
}

static void test_path_socket(void **state)
{
	struct fake f;

	fake_open(&f, 0);
	assert_int_equal(sd_notifyf("READY=1"), 1);
	fake_expect(&f, "READY=1");
	assert_int_equal(sd_notifyf("STATUS=%d workers\nMAINPID=%d", 2, 1234), 1);
	fake_expect(&f, "STATUS=2 workers\nMAINPID=1234");
	fake_close(&f);
}

static void test_abstract_socket(void **state)
{
	struct fake f;

	fake_open(&f, 1);
	assert_int_equal(sd_notifyf("RELOADING=1"), 1);
	fake_expect(&f, "RELOADING=1");
	fake_close(&f);
}

static void test_bad_names(void **state)
{
	char longname[200];

	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(sd_notifyf("READY=1"), -EINVAL);
	setenv("NOTIFY_SOCKET", "@", 1);
	assert_int_equal(sd_notifyf("READY=1"), -EINVAL);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	assert_int_equal(sd_notifyf("READY=1"), -EINVAL);
	/* nobody listening there */
	setenv("NOTIFY_SOCKET", "/nonexistent-dir/notify", 1);
	assert_int_equal(sd_notifyf("READY=1"), -ENOENT);
	unsetenv("NOTIFY_SOCKET");
}

static void test_too_long_message(void **state)
{
	struct fake f;
	char big[5000];

	fake_open(&f, 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(sd_notifyf("STATUS=%s", big), -EMSGSIZE);
	fake_close(&f);
}

/* A manager that does not read: the queue fills up and sd_notifyf()
 * reports it instead of blocking (a blocking send would hang the test,
 * which the runner's timeout turns into a failure). */
static void test_never_blocks(void **state)
{
	struct fake f;
	int rcvbuf = 4096, ret = 1, i;

	fake_open(&f, 0);
	setsockopt(f.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	for (i = 0; i < 100000 && ret == 1; i++)
		ret = sd_notifyf("STATUS=filling the queue %d", i);
	assert_int_equal(ret, -EAGAIN);
	fake_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_is_noop),
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_too_long_message),
		cmocka_unit_test(test_never_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
