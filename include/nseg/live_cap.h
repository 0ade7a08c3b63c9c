/*
 * On-demand live capture inside a workload's network namespace: libpcap on
 * the "any" device, opened by a thread that entered the namespace (the
 * packet socket stays bound to it), link type always LINUX_SLL so the
 * captures of several namespaces merge into one file. The handle is
 * non-blocking; the daemon polls live_cap_fd() from its event loop and
 * calls live_cap_dispatch() when it is readable.
 *
 * The kernel hands packets over in blocks, at the latest
 * LIVE_CAP_TIMEOUT_MS after a block's first packet: to keep a capture's
 * last packets, let the fd be polled that long after its end before
 * closing it (or dispatch once more after that delay).
 */
#ifndef NSEG_LIVE_CAP_H
#define NSEG_LIVE_CAP_H

#include <stddef.h>
#include <stdint.h>

struct pcap_pkthdr;
struct live_cap;

/* Defaults and bounds of struct live_cap_opts. */
#define LIVE_CAP_SNAPLEN_DEFAULT 262144
#define LIVE_CAP_BUFSZ_DEFAULT (4 * 1024 * 1024)
#define LIVE_CAP_BUFSZ_MAX (256 * 1024 * 1024)
#define LIVE_CAP_FILTER_MAX 4096
#define LIVE_CAP_TIMEOUT_MS 100

/* Zero fields take the defaults. */
struct live_cap_opts {
	/* BPF expression; NULL or "" captures everything. */
	const char *filter;
	/* Bytes kept per packet, 1..LIVE_CAP_SNAPLEN_DEFAULT. */
	int snaplen;
	/* Kernel ring per capture, bytes, up to LIVE_CAP_BUFSZ_MAX. */
	int buffer_size;
};

struct live_cap_stats {
	/* Packets that matched the filter, the dropped ones included. */
	uint64_t received;
	/* Packets lost because the ring was full. */
	uint64_t dropped;
};

/*
 * Compiles filter for a LINUX_SLL capture without opening anything, to
 * reject a bad filter before a capture starts. Returns 0, or -1 with err
 * holding the filter in quotes and libpcap's own message, e.g.
 * "'udp prot 5': can't parse filter expression: syntax error". NULL or ""
 * is valid (everything).
 */
int live_cap_check_filter(const char *filter, char *err, size_t errlen);

/*
 * Opens a capture on all interfaces of nsfd's network namespace (an fd of
 * /proc/PID/ns/net or /run/netns/NAME, still owned by the caller; the
 * capture keeps the namespace alive until closed). opts may be NULL for
 * the defaults. The calling thread never changes namespace. Returns the
 * capture, owned by the caller (live_cap_close), or NULL with err saying
 * why (bad fd, bad filter, libpcap's activation error).
 */
struct live_cap *live_cap_open(int nsfd, const struct live_cap_opts *opts,
			       char *err, size_t errlen);

/* Closes the capture and frees it. NULL is a no-op. */
void live_cap_close(struct live_cap *cap);

/* The non-blocking, close-on-exec fd to poll for readability; owned by the
 * capture. */
int live_cap_fd(const struct live_cap *cap);

/* DLT_LINUX_SLL, and the snap length in effect: what a file that merges
 * captures is opened with (pcap_open_dead). */
int live_cap_datalink(const struct live_cap *cap);
int live_cap_snaplen(const struct live_cap *cap);

/*
 * Called once per packet: h->ts is the kernel's receive time, h->caplen
 * bytes of the packet (with its 16-byte SLL header) are at bytes, valid
 * only during the call.
 */
typedef void live_cap_cb(void *arg, const struct pcap_pkthdr *h,
			 const uint8_t *bytes);

/*
 * Delivers up to max packets that are ready (max <= 0: all that are
 * ready) to cb without blocking. Returns how many, 0 when none were
 * ready, -1 on a capture error (logged; close the capture).
 */
int live_cap_dispatch(struct live_cap *cap, int max, live_cap_cb *cb,
		      void *arg);

/* Fills st with the counts since the capture opened. Returns 0 or -1. */
int live_cap_stats(struct live_cap *cap, struct live_cap_stats *st);

#endif
