/* Version and build features. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <ev.h>
#include <llhttp.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <proxyd/compiler.h>
#include <proxyd/version.h>

const char proxyd_version[] = PROXYD_VERSION;

/* Names follow HAProxy's "Feature list" so that configurations testing
 * .if feature(OPENSSL) keep working; '-' marks what this build lacks. */
static const struct {
	const char *name;
	int on;
} features[] = {
	{ "ACCEPT4", 1 }, { "EPOLL", 1 }, { "LIBEV", 1 }, { "LINUX_SPLICE", 0 },
	{ "LUA", 0 }, { "OPENSSL", 1 }, { "PCRE", 0 }, { "PCRE2", 1 },
	{ "PCRE2_JIT", 1 }, { "PROMEX", 0 }, { "QUIC", 0 }, { "SYSTEMD", 0 },
	{ "THREAD", 0 }, { "TPROXY", 0 }, { "ZLIB", 0 }, { "SLZ", 0 },
};

int feature_enabled(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		if (strcasecmp(features[i].name, name) == 0)
			return features[i].on;
	return 0;
}

void version_print(int verbose)
{
	printf("proxyd version %s %s - implements HAProxy %s behaviour\n",
	       proxyd_version, PROXYD_RELEASE_DATE, HAPROXY_COMPAT_VERSION);
	if (!verbose)
		return;
	printf("Build options :\n  CC      = %s\n", __VERSION__);
#ifdef __SANITIZE_ADDRESS__
	printf("  SANITIZERS = address,undefined\n");
#endif
	printf("\nFeature list :");
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		printf(" %c%s", features[i].on ? '+' : '-', features[i].name);
	printf("\n\nDefault settings :\n  bufsize = 16384, maxrewrite = 1024, maxhdr = 101\n\n");
	printf("Built with libev version : %d.%d (running %d.%d)\n", EV_VERSION_MAJOR, EV_VERSION_MINOR,
	       ev_version_major(), ev_version_minor());
	printf("Built with OpenSSL version : %s\n", OPENSSL_VERSION_TEXT);
	printf("Running on OpenSSL version : %s\n", OpenSSL_version(OPENSSL_VERSION));
	char pcre_ver[64] = "";
	pcre2_config(PCRE2_CONFIG_VERSION, pcre_ver);
	printf("Built with PCRE2 version : %s\n", pcre_ver);
	printf("Built with llhttp version : %d.%d.%d\n", LLHTTP_VERSION_MAJOR, LLHTTP_VERSION_MINOR,
	       LLHTTP_VERSION_PATCH);
}
