/* libFuzzer harness for the configuration parser: the input is a whole
 * configuration file, read by cfg_parse_string() (reader, splitter, .if
 * conditions, section dispatcher, every keyword parser), then resolved by
 * cfg_post_parse() and freed by cfg_deinit(), which must leave nothing
 * behind for the next input.
 *
 * Host names are not looked up: build.sh links with
 * -Wl,--wrap=getaddrinfo and the wrapper below only accepts numeric
 * addresses, so that a run neither waits for nor depends on DNS.
 */
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>

int __real_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);

int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res)
{
	struct addrinfo h;

	memset(&h, 0, sizeof(h));
	if (hints)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
	return __real_getaddrinfo(node, service, &h, res);
}

/* Messages are captured, not printed: thousands of runs per second. */
static char messages[1 << 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size > 1u << 20)
		return 0;
	/* the parser reads a NUL-terminated string: the input is cut at its
	 * first NUL, as a file would be by the line reader */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;

	diag_capture(messages, sizeof(messages));
	memset(&global, 0, sizeof(global));
	global.poison = -1;

	int err = cfg_parse_string("fuzz", text);
	if (!(err & (ERR_ABORT | ERR_FATAL)))
		cfg_post_parse();

	cfg_deinit();
	memset(&global, 0, sizeof(global));
	global.poison = -1;
	diag_capture(NULL, 0);
	free(text);
	return 0;
}
