#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nseg/log.h"
#include "nseg/privs.h"

static const int privs_keep[] = { CAP_NET_ADMIN, CAP_SYS_ADMIN,
				  CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH,
				  CAP_NET_RAW };

static int privs_kept(int cap)
{
	for (size_t i = 0; i < sizeof(privs_keep) / sizeof(privs_keep[0]); i++)
		if (privs_keep[i] == cap)
			return 1;
	return 0;
}

/* The highest capability this kernel knows. */
static int privs_last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

/* Capabilities are per thread: a second one would keep them all. */
static int privs_threads(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	int n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

int privs_drop(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];
	int last = privs_last_cap();

	if (geteuid() != 0)
		return 0;
	if (privs_threads() != 1) {
		snprintf(err, errlen, "capabilities: more than one thread");
		return -1;
	}
	for (int cap = 0; cap <= last; cap++)
		if (!privs_kept(cap) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) &&
		    errno != EINVAL) {
			snprintf(err, errlen, "dropping capability %d from the "
					      "bounding set: %s",
				 cap, strerror(errno));
			return -1;
		}
	memset(data, 0, sizeof(data));
	for (size_t i = 0; i < sizeof(privs_keep) / sizeof(privs_keep[0]); i++) {
		int cap = privs_keep[i];

		data[cap / 32].effective |= 1u << (cap % 32);
		data[cap / 32].permitted |= 1u << (cap % 32);
	}
	if (syscall(SYS_capset, &hdr, data) == -1 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		snprintf(err, errlen, "dropping capabilities: %s",
			 strerror(errno));
		return -1;
	}
	log_debug("capabilities: kept net_admin, sys_admin, sys_ptrace, "
		  "dac_read_search, net_raw");
	return 0;
}
