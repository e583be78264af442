/* What the unit tests that read configurations share: each test starts in
 * a process that never read one, and the messages the parser prints are
 * captured in "out".
 *
 * Before including: CFG_FX_OUT_SIZE (the capture's size, default 64 KiB),
 * CFG_FX_EXTRA_RESET() (what else to stop first, e.g. the checks), and
 * CFG_FX_OWN_SETUP when the file defines its own setup() and teardown(). */
#ifndef PROXYD_TEST_CFG_FIXTURE_H
#define PROXYD_TEST_CFG_FIXTURE_H

#include <string.h>

#include <proxyd/cfg.h>
#include <proxyd/diag.h>
#include <proxyd/global.h>

/* Not in a header: forgets the parser's own state (tests only). */
void cfg_parse_reset(void);

#define ALERT  (ERR_ALERT | ERR_FATAL)
#define WARN   ERR_WARN
/* One message about line <n> of the configuration "t". */
#define L(n, msg) "config : parsing [t:" #n "] : " msg "\n"

#ifndef CFG_FX_OUT_SIZE
#define CFG_FX_OUT_SIZE (1 << 16)
#endif
#ifndef CFG_FX_EXTRA_RESET
#define CFG_FX_EXTRA_RESET() do { } while (0)
#endif

static char out[CFG_FX_OUT_SIZE];

/* Back to a process that never read a configuration, nothing captured. */
static inline void cfg_fx_forget(void)
{
	diag_capture(NULL, 0);
	CFG_FX_EXTRA_RESET();
	cfg_deinit();
	cfg_parse_reset();
	memset(&global, 0, sizeof(global));
	global.poison = -1;
}

/* The same, and the messages from now on in "out". */
static inline void reset_state(void)
{
	cfg_fx_forget();
	out[0] = 0;
	diag_capture(out, sizeof(out));
}

/* Parses <text> as the configuration file "t"; its messages in "out". */
static inline int parse(const char *text)
{
	out[0] = 0;
	return cfg_parse_string("t", text);
}

/* A table of configurations with the error bits cfg_parse_string()
 * returns and every message it prints, in order: RUN(table). Needs
 * cmocka.h included first. */
struct mcase {
	const char *cfg;
	int err;
	const char *out;
};

static inline void run_cases(const struct mcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		reset_state();
		int err = parse(c[i].cfg);
		if (strcmp(out, c[i].out) != 0)
			fail_msg("configuration:\n%s\nexpected:\n%s\ngot:\n%s", c[i].cfg, c[i].out, out);
		if (err != c[i].err)
			fail_msg("configuration:\n%s\nerror bits %#x, expected %#x", c[i].cfg, err, c[i].err);
	}
}
#define RUN(tbl) run_cases(tbl, sizeof(tbl) / sizeof(tbl[0]))

#ifndef CFG_FX_OWN_SETUP
static inline int setup(void **state)
{
	(void)state;
	reset_state();
	return 0;
}

static inline int teardown(void **state)
{
	(void)state;
	cfg_fx_forget();
	return 0;
}
#endif

#endif
