#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "nseg/addr_watch.h"
#include "nseg/capture_mgr.h"
#include "nseg/daemon.h"
#include "nseg/enforce.h"
#include "nseg/evloop.h"
#include "nseg/log.h"
#include "nseg/queue_health.h"
#include "nseg/netns.h"
#include "nseg/nfqueue.h"
#include "nseg/nft_table.h"
#include "nseg/tamper.h"

const char *nsw_label(const struct nsw *w, char *buf, size_t len)
{
	if (w->name[0])
		snprintf(buf, len, "netns %s", w->name);
	else
		snprintf(buf, len, "netns [%llu]", (unsigned long long)w->ino);
	return buf;
}

static int nsw_on_packet(const struct nfqueue_packet *p, void *arg)
{
	struct nsw *w = arg;

	w->packets++;
	/* Attribution happens while the packet is held, so the socket is
	 * guaranteed to exist; the verdict follows from the mode. */
	return attrib_packet(w, p->payload, p->len, p->hook,
			     p->hook == NF_INET_LOCAL_OUT ? p->outdev : p->indev);
}

static void nsw_on_queue(int fd, uint32_t events, void *arg)
{
	struct nsw *w = arg;
	char label[300];

	if (nfqueue_dispatch(w->q) == -1)
		log_warn("%s: queue read", nsw_label(w, label, sizeof(label)));
}

static void nsw_addr_changed(int add, const struct nseg_addr *a, void *arg)
{
	struct nsw *w = arg;

	for (size_t i = 0; i < w->naddrs; i++) {
		if (!pkt_addr_eq(&w->addrs[i], a))
			continue;
		if (!add)
			w->addrs[i] = w->addrs[--w->naddrs];
		return;
	}
	if (add && w->naddrs < NSW_MAX_ADDRS)
		w->addrs[w->naddrs++] = *a;
	enforce_addresses_changed(w->d);
}

static void nsw_on_addr(int fd, uint32_t events, void *arg)
{
	struct nsw *w = arg;

	if (addr_watch_dispatch(w->aw) == -1) {
		/* A stale set would name peers wrongly: read it anew. */
		log_warnx("address notifications lost in netns %s: re-reading",
			  w->name);
		w->naddrs = 0;
		addr_watch_resync(w->aw);
		enforce_addresses_changed(w->d);
	}
}

static int nsw_open_sockets(struct nsw *w, char *err, size_t errlen)
{
	struct daemon *d = w->d;
	struct nfqueue_opts qo = {
		.queue_num = d->cfg.queue_num,
		.maxlen = d->cfg.queue_maxlen,
		.copy_range = d->cfg.copy_range,
		.fail_open = d->cfg.fail_open,
	};

	w->diag_fd = netns_socket(w->nsfd, AF_NETLINK, SOCK_DGRAM,
				  NETLINK_SOCK_DIAG);
	if (w->diag_fd == -1) {
		snprintf(err, errlen, "sock_diag: %s", strerror(errno));
		return -1;
	}
	w->aw = addr_watch_open(w->nsfd, nsw_addr_changed, w);
	if (!w->aw) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		return -1;
	}
	/* The reader must exist before the rules that feed it, or the
	 * first packets would meet an unbound queue. */
	w->q = nfqueue_open(w->nsfd, &qo, nsw_on_packet, w, err, errlen);
	if (!w->q)
		return -1;
	w->nft = netns_mnl_open(w->nsfd, NETLINK_NETFILTER);
	if (!w->nft) {
		snprintf(err, errlen, "nftables socket: %s", strerror(errno));
		return -1;
	}
	if (evloop_add_fd(d->loop, nfqueue_fd(w->q), EPOLLIN, nsw_on_queue, w) ||
	    evloop_add_fd(d->loop, addr_watch_fd(w->aw), EPOLLIN, nsw_on_addr,
			  w)) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		return -1;
	}
	/* Before the table: its notifications name nsegd's socket, and
	 * anything else that touches it from now on is seen. */
	tamper_nsw_open(w);
	return enforce_compile(w, err, errlen);
}

struct nsw *nsw_new(struct daemon *d, int nsfd, const char *name)
{
	struct nsw *w = calloc(1, sizeof(*w));
	char err[512], label[300];

	if (!w) {
		close(nsfd);
		return NULL;
	}
	w->d = d;
	w->nsfd = nsfd;
	w->diag_fd = -1;
	w->ino = netns_inode(nsfd);
	snprintf(w->name, sizeof(w->name), "%s", name ? name : "");
	if (nsw_open_sockets(w, err, sizeof(err)) == -1) {
		log_warnx("%s: cannot watch: %s",
			  nsw_label(w, label, sizeof(label)), err);
		d->netns_errors++;
		nsw_free(w, 0);
		return NULL;
	}
	w->next = d->nsws;
	d->nsws = w;
	log_info("%s: watching (queue %u, %s)",
		 nsw_label(w, label, sizeof(label)), d->cfg.queue_num,
		 d->native_queue ? "nft queue" : "xt NFQUEUE via nft_compat");
	return w;
}

void nsw_free(struct nsw *w, int remove_table)
{
	struct daemon *d;
	char err[512], label[300];

	if (!w)
		return;
	d = w->d;
	for (struct nsw **pp = &d->nsws; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	capture_mgr_nsw_gone(d->cap, w);
	tamper_nsw_close(w);
	/* What it lost since the last poll still counts. */
	if (w->nft && w->compiled_for[0])
		queue_health_poll_nsw(d, w);
	if (remove_table && w->nft && nft_table_remove(w->nft, err, sizeof(err)))
		log_warnx("%s: removing table: %s",
			  nsw_label(w, label, sizeof(label)), err);
	if (w->q) {
		evloop_del_fd(d->loop, nfqueue_fd(w->q));
		nfqueue_close(w->q);
	}
	if (w->aw) {
		evloop_del_fd(d->loop, addr_watch_fd(w->aw));
		addr_watch_close(w->aw);
	}
	if (w->nft)
		mnl_socket_close(w->nft);
	if (w->diag_fd != -1)
		close(w->diag_fd);
	close(w->nsfd);
	enforce_free_sets(w);
	free(w->edge_seen);
	free(w);
	/* Its addresses leave the sets of the tables that named it. */
	enforce_addresses_changed(d);
}

struct nsw *nsw_by_ino(struct daemon *d, uint64_t ino)
{
	for (struct nsw *w = d->nsws; w; w = w->next)
		if (w->ino == ino)
			return w;
	return NULL;
}

struct nsw *nsw_by_name(struct daemon *d, const char *name)
{
	for (struct nsw *w = d->nsws; w; w = w->next)
		if (w->name[0] && strcmp(w->name, name) == 0)
			return w;
	return NULL;
}

int nsw_has_addr(const struct nsw *w, const struct nseg_addr *a)
{
	for (size_t i = 0; i < w->naddrs; i++)
		if (pkt_addr_eq(&w->addrs[i], a))
			return 1;
	return 0;
}

struct nsw *nsw_by_addr(struct daemon *d, const struct nseg_addr *a)
{
	if (pkt_addr_is_loopback(a))
		return NULL;
	for (struct nsw *w = d->nsws; w; w = w->next)
		if (nsw_has_addr(w, a))
			return w;
	return NULL;
}
