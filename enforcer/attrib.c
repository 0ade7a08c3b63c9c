/*
 * One queued packet -> one learned edge: who sent or received it (local
 * socket -> process -> container -> workload) and who is on the other end
 * (a watched namespace's workload and process, the host, or an external
 * network).
 */
#include <errno.h>
#include <netinet/in.h>
/* after netinet/in.h, which it would otherwise redefine */
#include <linux/netfilter.h>
#include <stdio.h>
#include <string.h>

#include "nseg/daemon.h"
#include "nseg/enforce.h"
#include "nseg/policy.h"
#include "nseg/evloop.h"
#include "nseg/flow_memo.h"
#include "nseg/icmp_socks.h"
#include "nseg/netns.h"
#include "nseg/nfqueue.h"
#include "nseg/learn_agg.h"
#include "nseg/log.h"
#include "nseg/proc_cache.h"
#include "nseg/sockdiag.h"

/* Version of a workload that has no image (a bare namespace). */
#define ATTRIB_NO_VERSION "-"
/* How long an egress attribution serves the matching ingress packet. */
#define ATTRIB_MEMO_TTL_MS 5000
/* TCP flags FIN|SYN|RST|ACK, and the value an opening SYN has. */
#define ATTRIB_TCP_OPEN_MASK 0x17
#define ATTRIB_TCP_SYN 0x02
/* How long a port's server process is trusted without asking again. */
#define ATTRIB_SERVER_TTL_MS 1000

static void attrib_set_proc(struct nseg_proc_id *p, const char *exe,
			    const char *comm)
{
	snprintf(p->exe, sizeof(p->exe), "%s", exe);
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
}

void attrib_nsw_identity(struct daemon *d, struct nsw *w, char *workload,
			 size_t wlen, char *version, size_t vlen)
{
	struct container *c = w->cid[0] ? discovery_container(d, w->cid) : NULL;

	if (c) {
		snprintf(workload, wlen, "%s", c->meta.workload);
		snprintf(version, vlen, "%s", c->meta.version);
	} else if (w->name[0]) {
		snprintf(workload, wlen, "netns:%s", w->name);
		snprintf(version, vlen, "%s", ATTRIB_NO_VERSION);
	} else {
		snprintf(workload, wlen, "netns:%llu",
			 (unsigned long long)w->ino);
		snprintf(version, vlen, "%s", ATTRIB_NO_VERSION);
	}
}

/* Finds the process owning the socket of this flow in namespace w.
 * Returns 0, or -1 with *reason set. */
static int attrib_local_proc(struct nsw *w, uint8_t proto,
			     const struct nseg_addr *local, uint16_t lport,
			     const struct nseg_addr *remote, uint16_t rport,
			     uint32_t ifindex, int cheap, struct proc_info *pi,
			     enum attrib_reason *reason)
{
	struct sockdiag_sock s;

	if (sockdiag_lookup(w->diag_fd, proto, local, lport, remote, rport,
			    ifindex, &s) == -1) {
		*reason = ATTRIB_NO_SOCKET;
		return -1;
	}
	if (s.inode == 0 || proc_cache_find_socket2(w->d->pc, w->ino, s.inode,
						    cheap, pi) == -1) {
		*reason = ATTRIB_NO_PROCESS;
		return -1;
	}
	return 0;
}

/* The server end (a listening TCP socket, a bound UDP one) is the same
 * socket for every connection to a port: remembered per namespace for a
 * moment, it saves a sock_diag query per connection. Only while process
 * events flow, so a server that exits is forgotten at once. */
static int attrib_server_proc(struct nsw *w, uint8_t proto,
			      const struct nseg_addr *local, uint16_t lport,
			      const struct nseg_addr *remote, uint16_t rport,
			      uint32_t ifindex, struct proc_info *pi,
			      enum attrib_reason *reason)
{
	struct nsw_server *sv = &w->servers[(lport ^ proto) % NSW_SERVERS];
	uint64_t now = evloop_now_ms(w->d->loop);
	struct sockdiag_sock s;

	if (sv->pid && sv->port == lport && sv->proto == proto &&
	    pkt_addr_eq(&sv->addr, local) &&
	    now - sv->when_ms < ATTRIB_SERVER_TTL_MS &&
	    proc_cache_events_live(w->d->pc) &&
	    proc_cache_info(w->d->pc, sv->pid, pi) == 0)
		return 0;
	if (sockdiag_lookup_server(w->diag_fd, proto, local, lport, remote,
				   rport, ifindex, &s) == -1) {
		*reason = ATTRIB_NO_SOCKET;
		return -1;
	}
	if (s.inode == 0 ||
	    proc_cache_find_socket(w->d->pc, w->ino, s.inode, pi) == -1) {
		*reason = ATTRIB_NO_PROCESS;
		return -1;
	}
	if (s.state == SOCKDIAG_TCP_LISTEN ||
	    (proto == IPPROTO_UDP && s.state == SOCKDIAG_TCP_CLOSE)) {
		sv->pid = pi->pid;
		sv->port = lport;
		sv->proto = proto;
		sv->addr = *local;
		sv->when_ms = now;
	}
	return 0;
}

struct attrib_icmp_args {
	int family;
	uint16_t id;
	uint64_t inodes[16];
	size_t n;
};

static int attrib_icmp_cb(void *arg)
{
	struct attrib_icmp_args *a = arg;

	/* The tables of the namespace this thread is in. */
	a->n = icmp_socks_candidates("/proc/thread-self/net", a->family, a->id,
				     a->inodes, 16);
	return 0;
}

/* The sender of an ICMP echo: the first candidate socket a process of
 * this namespace holds. */
static int attrib_icmp_proc(struct nsw *w, const struct nseg_pkt *p, int cheap,
			    struct proc_info *pi, enum attrib_reason *reason)
{
	struct attrib_icmp_args a = { .family = p->src.family,
				      .id = p->icmp_id };

	*reason = ATTRIB_ICMP;
	if (netns_run(w->nsfd, attrib_icmp_cb, &a) == -1)
		return -1;
	for (size_t i = 0; i < a.n; i++)
		if (proc_cache_find_socket2(w->d->pc, w->ino, a.inodes[i],
					    cheap, pi) == 0)
			return 0;
	return -1;
}

/* The sender of a packet of a flow attributed a moment ago whose socket
 * or process is gone by now: a SYN retransmitted as connect() timed out,
 * a datagram from a process that exited after sending it. */
static int attrib_memo_proc(struct nsw *w, const struct nseg_pkt *p,
			    struct proc_info *pi)
{
	pid_t pid = flow_memo_get(w->d->memo, p, w->ino,
				  evloop_now_ms(w->d->loop), ATTRIB_MEMO_TTL_MS);

	return pid ? proc_cache_info_recent(w->d->pc, pid, pi) : -1;
}

/* The process on the peer's end, in watched namespace pw. For ingress the
 * peer is the client, whose namespace attributed this very packet on its
 * way out a moment ago (the flow memo); otherwise ask sock_diag there
 * (with no interface: the packet's is one of this namespace's). */
static int attrib_peer_proc(struct nsw *pw, const struct nseg_pkt *p,
			    int egress, struct proc_info *pi)
{
	struct daemon *d = pw->d;
	enum attrib_reason why;
	pid_t pid;

	if (!egress) {
		pid = flow_memo_get(d->memo, p, pw->ino, evloop_now_ms(d->loop),
				    ATTRIB_MEMO_TTL_MS);
		if (pid && proc_cache_info_recent(d->pc, pid, pi) == 0)
			return 0;
	}
	if (egress)
		return attrib_server_proc(pw, p->proto, &p->dst, p->dport,
					  &p->src, p->sport, 0, pi, &why);
	return attrib_local_proc(pw, p->proto, &p->src, p->sport, &p->dst,
				 p->dport, 0, 0, pi, &why);
}

/* Names the peer: a watched namespace (workload and, when its socket is
 * found, process), the host, or an external network. */
static void attrib_peer(struct nsw *w, const struct nseg_pkt *p, int egress,
			int with_proc, struct nseg_edge_key *k)
{
	struct daemon *d = w->d;
	const struct nseg_addr *remote = egress ? &p->dst : &p->src;
	char version[NSEG_VERSION_MAX], cidr[PKT_CIDR_STRLEN];
	struct nsw *pw;
	struct proc_info pi;

	if (pkt_addr_is_loopback(remote) || nsw_has_addr(w, remote))
		pw = w;
	else
		pw = nsw_by_addr(d, remote);
	if (pw) {
		attrib_nsw_identity(d, pw, k->peer, sizeof(k->peer), version,
				    sizeof(version));
		if (with_proc &&
		    (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) &&
		    attrib_peer_proc(pw, p, egress, &pi) == 0) {
			struct container *c =
				pi.container_id[0]
					? discovery_container(d, pi.container_id)
					: NULL;
			k->peer_proc = pi.id;
			if (c)
				snprintf(k->peer, sizeof(k->peer), "%s",
					 c->meta.workload);
		}
		return;
	}
	for (size_t i = 0; i < d->n_host_addrs; i++) {
		if (pkt_addr_eq(&d->host_addrs[i], remote)) {
			snprintf(k->peer, sizeof(k->peer), "host");
			return;
		}
	}
	for (size_t i = 0; i < d->cfg.n_networks; i++) {
		if (pkt_cidr_contains(&d->cfg.networks[i].cidr, remote)) {
			snprintf(k->peer, sizeof(k->peer), "external:%s",
				 d->cfg.networks[i].name);
			return;
		}
	}
	pkt_addr_to_str(remote, cidr, sizeof(cidr));
	snprintf(k->peer, sizeof(k->peer), "external:%s/%d", cidr,
		 remote->family == AF_INET ? 32 : 128);
}

/* Fills the local end of k: workload, version, process (and x's pid and
 * container, for alerts). */
static void attrib_local(struct nsw *w, const struct nseg_pkt *p, int egress,
			 uint32_t ifindex, int cheap, struct nseg_edge_key *k,
			 struct enforce_ctx *x)
{
	struct daemon *d = w->d;
	enum attrib_reason why = ATTRIB_OTHER_PROTO;
	struct proc_info pi;
	struct container *c = NULL;
	int found = 0;

	if ((p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) && egress)
		found = attrib_local_proc(w, p->proto, &p->src, p->sport,
					  &p->dst, p->dport, ifindex, cheap,
					  &pi, &why) == 0 ||
			attrib_memo_proc(w, p, &pi) == 0;
	else if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP)
		found = attrib_server_proc(w, p->proto, &p->dst, p->dport,
					   &p->src, p->sport, ifindex, &pi,
					   &why) == 0;
	else if ((p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) &&
		 egress)
		found = attrib_icmp_proc(w, p, cheap, &pi, &why) == 0;
	else if (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6)
		why = ATTRIB_ICMP;

	attrib_nsw_identity(d, w, k->workload, sizeof(k->workload), k->version,
			    sizeof(k->version));
	if (!found) {
		/* The kernel itself answers an echo request. */
		if (why == ATTRIB_ICMP && !egress)
			attrib_set_proc(&k->proc, NSEG_PROC_KERNEL,
					NSEG_PROC_KERNEL);
		else
			attrib_set_proc(&k->proc, NSEG_PROC_UNKNOWN,
					NSEG_PROC_UNKNOWN);
		d->unattributed[why]++;
		return;
	}
	k->proc = pi.id;
	x->pid = pi.pid;
	snprintf(x->container, sizeof(x->container), "%s", pi.container_id);
	if (egress)
		flow_memo_put(d->memo, p, w->ino, pi.pid,
			      evloop_now_ms(d->loop));
	if (pi.container_id[0]) {
		c = discovery_container(d, pi.container_id);
		if (!c)
			discovery_note_pid(d, w, pi.pid);
		c = c ? c : discovery_container(d, pi.container_id);
	}
	if (c) {
		snprintf(k->workload, sizeof(k->workload), "%s",
			 c->meta.workload);
		snprintf(k->version, sizeof(k->version), "%s", c->meta.version);
	}
}

/* What cannot be parsed cannot be judged: accepted while learning or
 * notifying, dropped by an enforcing namespace. */
static int attrib_unjudged(struct nsw *w)
{
	return w->mode == POLICY_ENFORCE ? NF_DROP : NF_ACCEPT;
}

/* A socket whose connection got past its handshake's first SYN: what a
 * forgotten flow has. SYN_SENT does not count: a connect() to a blocked
 * peer leaves one (its SYN dropped) for raw segments to hide behind;
 * nor do LISTEN (the kernel's fallback for any segment to a served port)
 * and CLOSE. */
static int attrib_connected(const struct sockdiag_sock *s)
{
	return s->state != SOCKDIAG_TCP_SYN_SENT &&
	       s->state != SOCKDIAG_TCP_CLOSE &&
	       s->state != SOCKDIAG_TCP_LISTEN;
}

/*
 * conntrack also calls "new" a TCP flow it picks up mid-stream (its entry
 * expired or was flushed, or the flow predates the table): only a SYN
 * without ACK opens a connection, and only it says which end is the
 * server, so nothing is learned from it. Such a flow has a connected
 * socket in the namespace; a segment written on a raw socket, to carry
 * data past the rules without ever opening a connection, has none.
 * Enforcing, one coming in is reset, as the kernel would without the
 * table (a peer whose idle connection the server has forgotten learns it
 * at once instead of retrying for minutes), and never reaches a raw
 * socket's reader; one going out is dropped.
 */
static int attrib_midstream(struct nsw *w, const struct nseg_pkt *p,
			    int egress, uint32_t ifindex)
{
	struct daemon *d = w->d;
	struct sockdiag_sock s;

	if (w->mode != POLICY_LEARN &&
	    (sockdiag_lookup(w->diag_fd, IPPROTO_TCP, egress ? &p->src : &p->dst,
			     egress ? p->sport : p->dport,
			     egress ? &p->dst : &p->src,
			     egress ? p->dport : p->sport, ifindex, &s) == -1 ||
	     !attrib_connected(&s))) {
		char src[PKT_ADDR_STRLEN], dst[PKT_ADDR_STRLEN];

		d->unattributed[ATTRIB_TCP_NO_SOCKET]++;
		w->orphans++;
		pkt_addr_to_str(&p->src, src, sizeof(src));
		pkt_addr_to_str(&p->dst, dst, sizeof(dst));
		snprintf(w->orphan_last, sizeof(w->orphan_last), "%s %s.%u > %s.%u",
			 egress ? "out" : "in", src, p->sport, dst, p->dport);
		if (w->mode == POLICY_ENFORCE && !egress)
			return NFQUEUE_REJECT;
		return attrib_unjudged(w);
	}
	d->unattributed[ATTRIB_MIDSTREAM]++;
	return NF_ACCEPT;
}

/* No alert: without a process nothing names the deviation, and a
 * straggler of a closed connection looks the same. A line in the log
 * every couple of seconds at most says where to look. */
void attrib_log_orphans(struct daemon *d)
{
	for (struct nsw *w = d->nsws; w; w = w->next) {
		char label[300];

		if (w->orphans == w->orphans_logged)
			continue;
		log_warnx("%s: %llu TCP segment(s) with no socket behind them "
			  "%s (last: %s): written on a raw socket, or stragglers "
			  "of closed connections",
			  nsw_label(w, label, sizeof(label)),
			  (unsigned long long)(w->orphans - w->orphans_logged),
			  w->mode == POLICY_ENFORCE ? "dropped" : "passed",
			  w->orphan_last);
		w->orphans_logged = w->orphans;
	}
}

int attrib_packet(struct nsw *w, const uint8_t *buf, size_t len, int hook,
		  uint32_t ifindex)
{
	struct daemon *d = w->d;
	struct enforce_ctx x = { 0 };
	struct nseg_edge_key k;
	struct nseg_pkt p;
	const char *why;
	int egress = hook == NF_INET_LOCAL_OUT, cheap, learning;

	if (!buf || pkt_parse(buf, len, &p, &why) == -1 || p.is_fragment) {
		d->unattributed[ATTRIB_BAD_PACKET]++;
		return attrib_unjudged(w);
	}
	if (p.proto == IPPROTO_TCP && (p.tcp_flags & ATTRIB_TCP_OPEN_MASK) !=
					      ATTRIB_TCP_SYN)
		return attrib_midstream(w, &p, egress, ifindex);
	memset(&k, 0, sizeof(k));
	k.dir = egress ? NSEG_EGRESS : NSEG_INGRESS;
	k.proto = p.proto;
	/* The first packet of a flow goes to the server: its destination
	 * port is the server port whichever end we are. */
	if (p.proto == IPPROTO_TCP || p.proto == IPPROTO_UDP)
		k.port = p.dport;
	else if (p.proto == IPPROTO_ICMP || p.proto == IPPROTO_ICMPV6)
		k.port = p.icmp_type;
	/* Which peer it is needs no process. When no approved edge of this
	 * namespace names that peer and port, the verdict cannot depend on
	 * the process either: attribute it only as far as it is cheap (a
	 * flood from a process with thousands of sockets must not cost an fd
	 * table walk per packet). */
	attrib_peer(w, &p, egress, 0, &k);
	cheap = w->mode != POLICY_LEARN &&
		!policy_names_port(policy_get(d->policy, w->compiled_for), k.dir,
				   k.peer, k.proto, k.port);
	attrib_local(w, &p, egress, ifindex, cheap, &k, &x);
	memset(k.peer, 0, sizeof(k.peer));
	attrib_peer(w, &p, egress, !cheap, &k);
	pkt_addr_to_str(egress ? &p.dst : &p.src, x.peer_address,
			sizeof(x.peer_address));
	x.pkt = buf;
	x.len = len;
	x.p = &p;
	/* A namespace that is not learning sees only deviations here (or
	 * approved traffic, which is in its baseline already). */
	learning = w->mode == POLICY_LEARN;
	if (learn_agg_observe(d->agg, &k, daemon_now(), learning) == -1 &&
	    errno == ENOSPC) {
		/* Full: write what is pending, then count this one. An
		 * invalid key (EINVAL) is counted by the learner and dropped. */
		daemon_flush(d);
		learn_agg_observe(d->agg, &k, daemon_now(), learning);
	}
	return enforce_verdict(w, &k, &x);
}
