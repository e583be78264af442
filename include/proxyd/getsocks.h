/* Listening sockets handed over between processes through the admin
 * socket (reload with -x): "_getsocks" in the old process, the fetch in
 * the new one. The protocol is described in cli_getsocks.c. */
#ifndef PROXYD_GETSOCKS_H
#define PROXYD_GETSOCKS_H

/* Connects to the admin socket at <path>, fetches the old process's
 * listening sockets and adds them to the handover pool. Returns how many
 * were added, or -1 after an alert. */
int getsocks_fetch(const char *path);

#endif
