/* Server state carried across restarts and reloads, as HAProxy's
 * "server-state-file": the text "show servers state" prints (version 1)
 * is read back at start-up and each server found in it gets its
 * operational state, admin state, weight, address/port and check state
 * back. */
#ifndef PROXYD_SERVER_STATE_H
#define PROXYD_SERVER_STATE_H

#include <stddef.h>

/* load-server-state-from-file (struct proxy_conf.srv_state_load). */
enum srv_state_load {
	SRV_STATE_LOAD_NONE = 0,   /* the default, as HAProxy's */
	SRV_STATE_LOAD_GLOBAL,     /* the global "server-state-file" */
	SRV_STATE_LOAD_LOCAL,      /* its own file: server-state-file-name or the backend's name */
};

/* A version 1 line has at least the fields up to "srvrecord"; HAProxy
 * 2.6 writes 25. Later fields are ignored. */
#define SRV_STATE_MIN_FIELDS 20
#define SRV_STATE_MAX_FIELDS 25

/* The values of one line, checked (see srv_state_parse_line()). */
struct srv_state_line {
	int be_id;
	const char *be_name;
	int srv_id;
	const char *srv_name;
	const char *addr;          /* "-": none */
	int op_state;              /* enum srv_state */
	unsigned admin;            /* SRV_ADMF_* */
	int uweight, iweight;
	long since_change;         /* seconds since the last operational change */
	int chk_status;            /* enum chk_status */
	int chk_result;
	int chk_health;
	unsigned chk_state;        /* CHK_STATE_* below */
	unsigned agent_state;
	int bk_forced_id, srv_forced_id;
	const char *fqdn;          /* "-": none */
	int port;                  /* 0: none */
};

/* Check state bits of the dump (srv_check_state). */
enum {
	CHK_STATE_INPROGRESS = 0x01,
	CHK_STATE_CONFIGURED = 0x02,
	CHK_STATE_ENABLED    = 0x04,
	CHK_STATE_PAUSED     = 0x08,
};

/* Splits <line> in place into at most SRV_STATE_MAX_FIELDS words
 * separated by blanks; returns how many words the line has (possibly more
 * than were stored). */
int srv_state_split(char *line, char **fields, int max);
/* Checks and converts the fields of a line (nf >= SRV_STATE_MIN_FIELDS).
 * Returns 0, or -1 with one ", invalid <field> value '<text>'" per bad
 * field appended in <err> (HAProxy's wording). */
int srv_state_parse_line(char *const *f, int nf, struct srv_state_line *st, char *err, size_t errlen);

/* Applies a whole dump (version line, optional '#' comments, one line per
 * server) to the running configuration: each backend and server is found
 * by name, as with a global "server-state-file", whatever the backend's
 * load-server-state-from-file says. Lines naming an unknown backend or
 * server are skipped with a warning. Returns the number of servers
 * updated, or -1 with the reason in <err> when the text is not a version 1
 * dump or a line is truncated (then nothing is applied, as HAProxy
 * rejects such a file). Must run on the main thread once the threads and
 * the checks are started (threads_init(), checks_start()). */
int server_state_apply_text(const char *buf, size_t len, char *err, size_t errlen);

/* Applies the files the configuration names (server-state-file,
 * load-server-state-from-file, server-state-file-name), read when the
 * configuration was checked; returns the number of servers updated. Same
 * context as server_state_apply_text(). */
int server_state_load(void);

#endif
