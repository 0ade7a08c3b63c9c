#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/live_cap.h"
#include "nseg/log.h"
#include "nseg/nsthread.h"

struct live_cap {
	pcap_t *p;
	int fd;
	int snaplen;
};

/* Given to the thread inside the namespace; p and err come back. */
struct live_cap_job {
	struct live_cap_opts o;
	pcap_t *p;
	char *err;
	size_t errlen;
};

static int live_cap_compile(pcap_t *p, const char *filter,
			    struct bpf_program *prog, char *err, size_t errlen)
{
	size_t len;

	if (!filter)
		filter = "";
	len = strnlen(filter, LIVE_CAP_FILTER_MAX + 1);
	if (len > LIVE_CAP_FILTER_MAX) {
		snprintf(err, errlen, "filter too long (more than %d bytes)",
			 LIVE_CAP_FILTER_MAX);
		return -1;
	}
	if (pcap_compile(p, prog, filter, 1, PCAP_NETMASK_UNKNOWN) == -1) {
		snprintf(err, errlen, "'%s': %s", filter, pcap_geterr(p));
		return -1;
	}
	return 0;
}

int live_cap_check_filter(const char *filter, char *err, size_t errlen)
{
	struct bpf_program prog;
	pcap_t *p;
	int rc;

	p = pcap_open_dead(DLT_LINUX_SLL, LIVE_CAP_SNAPLEN_DEFAULT);
	if (!p) {
		snprintf(err, errlen, "pcap_open_dead: out of memory");
		return -1;
	}
	rc = live_cap_compile(p, filter, &prog, err, errlen);
	if (rc == 0)
		pcap_freecode(&prog);
	pcap_close(p);
	return rc;
}

static int live_cap_opts_norm(const struct live_cap_opts *in,
			      struct live_cap_opts *o, char *err, size_t errlen)
{
	*o = in ? *in : (struct live_cap_opts){0};
	if (o->snaplen == 0)
		o->snaplen = LIVE_CAP_SNAPLEN_DEFAULT;
	if (o->buffer_size == 0)
		o->buffer_size = LIVE_CAP_BUFSZ_DEFAULT;
	if (o->snaplen < 0 || o->snaplen > LIVE_CAP_SNAPLEN_DEFAULT) {
		snprintf(err, errlen, "snaplen %d out of range 1..%d",
			 o->snaplen, LIVE_CAP_SNAPLEN_DEFAULT);
		return -1;
	}
	if (o->buffer_size < 0 || o->buffer_size > LIVE_CAP_BUFSZ_MAX) {
		snprintf(err, errlen, "buffer size %d out of range 1..%d",
			 o->buffer_size, LIVE_CAP_BUFSZ_MAX);
		return -1;
	}
	return 0;
}

/*
 * Not immediate mode: libpcap then falls back from TPACKET_V3 to V2, whose
 * ring has fixed frames of snaplen bytes, so a 2 MiB ring held 4 packets
 * (a burst of 1000 datagrams lost 996). V3 packs packets into blocks that
 * the kernel hands over when full or LIVE_CAP_TIMEOUT_MS after their first
 * packet; a file capture can wait that long.
 */
static int live_cap_activate(pcap_t *p, const struct live_cap_opts *o,
			     char *err, size_t errlen)
{
	int rc;

	if (pcap_set_snaplen(p, o->snaplen) || pcap_set_promisc(p, 0) ||
	    pcap_set_immediate_mode(p, 0) ||
	    pcap_set_timeout(p, LIVE_CAP_TIMEOUT_MS) ||
	    pcap_set_buffer_size(p, o->buffer_size)) {
		snprintf(err, errlen, "setting capture options: %s",
			 pcap_geterr(p));
		return -1;
	}
	rc = pcap_activate(p);
	if (rc < 0) {
		snprintf(err, errlen, "activating the capture: %s (%s)",
			 pcap_statustostr(rc), pcap_geterr(p));
		return -1;
	}
	if (rc > 0)
		log_warnx("%s: %s (%s)", __func__, pcap_statustostr(rc),
			  pcap_geterr(p));
	return 0;
}

/* Every namespace's capture must share one link type to merge into one
 * file; libpcap >= 1.10 may offer LINUX_SLL2 on "any". */
static int live_cap_force_sll(pcap_t *p, char *err, size_t errlen)
{
	if (pcap_datalink(p) == DLT_LINUX_SLL)
		return 0;
	if (pcap_set_datalink(p, DLT_LINUX_SLL) == -1 ||
	    pcap_datalink(p) != DLT_LINUX_SLL) {
		snprintf(err, errlen, "link type %s, cannot switch to %s: %s",
			 pcap_datalink_val_to_name(pcap_datalink(p)),
			 pcap_datalink_val_to_name(DLT_LINUX_SLL),
			 pcap_geterr(p));
		return -1;
	}
	return 0;
}

static int live_cap_setup(pcap_t *p, const struct live_cap_opts *o, char *err,
			  size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	int rc;

	if (live_cap_activate(p, o, err, errlen) == -1 ||
	    live_cap_force_sll(p, err, errlen) == -1 ||
	    live_cap_compile(p, o->filter, &prog, err, errlen) == -1)
		return -1;
	rc = pcap_setfilter(p, &prog);
	pcap_freecode(&prog);
	if (rc == -1) {
		snprintf(err, errlen, "setting the filter: %s", pcap_geterr(p));
		return -1;
	}
	if (pcap_setnonblock(p, 1, ebuf) == -1) {
		snprintf(err, errlen, "non-blocking mode: %s", ebuf);
		return -1;
	}
	return 0;
}

/* Runs on the thread inside the namespace: the packet socket pcap_activate
 * creates belongs to the namespace current at that moment. */
static int live_cap_job_run(void *arg)
{
	struct live_cap_job *j = arg;
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p;

	p = pcap_create("any", ebuf);
	if (!p) {
		snprintf(j->err, j->errlen, "pcap_create: %s", ebuf);
		return -1;
	}
	if (live_cap_setup(p, &j->o, j->err, j->errlen) == -1) {
		pcap_close(p);
		return -1;
	}
	j->p = p;
	return 0;
}

static struct live_cap *live_cap_wrap(pcap_t *p, int snaplen, char *err,
				      size_t errlen)
{
	struct live_cap *cap;
	int fd = pcap_get_selectable_fd(p);

	if (fd == -1) {
		snprintf(err, errlen, "capture has no selectable fd");
		return NULL;
	}
	/* Children the daemon spawns must not inherit the capture. */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "capture fd: %s", strerror(errno));
		return NULL;
	}
	cap = calloc(1, sizeof(*cap));
	if (!cap) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*cap = (struct live_cap){p, fd, snaplen};
	return cap;
}

struct live_cap *live_cap_open(int nsfd, const struct live_cap_opts *opts,
			       char *err, size_t errlen)
{
	struct live_cap_job j = {.err = err, .errlen = errlen};
	struct live_cap *cap;
	const char *why;

	if (errlen > 0)
		err[0] = '\0';
	if (live_cap_opts_norm(opts, &j.o, err, errlen) == -1)
		return NULL;
	why = nsthread_check(nsfd);
	if (why) {
		snprintf(err, errlen, "network namespace fd %d: %s", nsfd, why);
		return NULL;
	}
	if (nsthread_run(nsfd, live_cap_job_run, &j) == -1) {
		if (errlen > 0 && err[0] == '\0')
			snprintf(err, errlen,
				 "cannot enter network namespace fd %d: %s",
				 nsfd, strerror(errno));
		return NULL;
	}
	cap = live_cap_wrap(j.p, j.o.snaplen, err, errlen);
	if (!cap)
		pcap_close(j.p);
	return cap;
}

void live_cap_close(struct live_cap *cap)
{
	if (!cap)
		return;
	pcap_close(cap->p);
	free(cap);
}

int live_cap_fd(const struct live_cap *cap)
{
	return cap->fd;
}

int live_cap_datalink(const struct live_cap *cap)
{
	return pcap_datalink(cap->p);
}

int live_cap_snaplen(const struct live_cap *cap)
{
	return cap->snaplen;
}

struct live_cap_call {
	live_cap_cb *cb;
	void *arg;
};

static void live_cap_trampoline(u_char *user, const struct pcap_pkthdr *h,
				const u_char *bytes)
{
	struct live_cap_call *c = (struct live_cap_call *)user;

	c->cb(c->arg, h, bytes);
}

int live_cap_dispatch(struct live_cap *cap, int max, live_cap_cb *cb, void *arg)
{
	struct live_cap_call c = {cb, arg};
	int n;

	n = pcap_dispatch(cap->p, max > 0 ? max : -1, live_cap_trampoline,
			  (u_char *)&c);
	if (n == PCAP_ERROR) {
		log_warnx("%s: %s", __func__, pcap_geterr(cap->p));
		return -1;
	}
	/* PCAP_ERROR_BREAK: only pcap_breakloop() causes it, never called. */
	return n < 0 ? 0 : n;
}

int live_cap_stats(struct live_cap *cap, struct live_cap_stats *st)
{
	struct pcap_stat ps;

	if (pcap_stats(cap->p, &ps) == -1) {
		log_warnx("%s: %s", __func__, pcap_geterr(cap->p));
		return -1;
	}
	st->received = ps.ps_recv;
	st->dropped = ps.ps_drop;
	return 0;
}
