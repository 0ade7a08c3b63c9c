#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nseg/netns.h"
#include "nseg/nft_table.h"
#include "nseg/nft_watch.h"

/* Room for nsegd's own notifications: a big table's rebuild sends one per
 * rule, and losing them costs a full comparison. */
#define NFT_WATCH_RCVBUF (1 << 20)

struct nft_watch {
	struct mnl_socket *nl;
	uint32_t own_portid;
	nft_watch_cb cb;
	void *arg;
	size_t changes; /* of the foreign transaction being read */
	char first[NFT_WATCH_NOTE_MAX];
};

/* The object kind and name attribute of each message type that changes
 * something (the table is attribute 1 in all of them). */
static const struct {
	uint16_t type;
	const char *what;
	uint16_t name_attr; /* 0: none worth naming */
} nft_watch_msgs[] = {
	{ NFT_MSG_NEWTABLE, "table added or changed", 0 },
	{ NFT_MSG_DELTABLE, "table deleted", 0 },
	{ NFT_MSG_NEWCHAIN, "chain added or changed:", NFTA_CHAIN_NAME },
	{ NFT_MSG_DELCHAIN, "chain deleted:", NFTA_CHAIN_NAME },
	{ NFT_MSG_NEWRULE, "rule added to chain", NFTA_RULE_CHAIN },
	{ NFT_MSG_DELRULE, "rule deleted from chain", NFTA_RULE_CHAIN },
	{ NFT_MSG_NEWSET, "set added:", NFTA_SET_NAME },
	{ NFT_MSG_DELSET, "set deleted:", NFTA_SET_NAME },
	{ NFT_MSG_NEWSETELEM, "elements added to set", NFTA_SET_ELEM_LIST_SET },
	{ NFT_MSG_DELSETELEM, "elements deleted from set",
	  NFTA_SET_ELEM_LIST_SET },
	{ NFT_MSG_NEWOBJ, "object added:", NFTA_OBJ_NAME },
	{ NFT_MSG_DELOBJ, "object deleted:", NFTA_OBJ_NAME },
	{ NFT_MSG_NEWFLOWTABLE, "flowtable added:", NFTA_FLOWTABLE_NAME },
	{ NFT_MSG_DELFLOWTABLE, "flowtable deleted:", NFTA_FLOWTABLE_NAME },
};

/* String attribute type of nlh, or NULL. */
static const char *nft_watch_str(const struct nlmsghdr *nlh, uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == type)
			return mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0
				       ? mnl_attr_get_str(a)
				       : NULL;
	return NULL;
}

static enum nft_watch_kind nft_watch_commit(const struct nlmsghdr *nlh,
					    char *what, size_t len)
{
	const char *comm = nft_watch_str(nlh, NFTA_GEN_PROC_NAME);
	const struct nlattr *a;
	uint32_t pid = 0;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_GEN_PROC_PID &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0)
			pid = ntohl(mnl_attr_get_u32(a));
	snprintf(what, len, "%s (pid %u)", comm ? comm : "?", pid);
	return NFT_WATCH_COMMIT;
}

enum nft_watch_kind nft_watch_classify(const struct nlmsghdr *nlh,
				       uint32_t own_portid, char *what,
				       size_t len)
{
	uint16_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	const struct nfgenmsg *g;
	const char *table, *name;

	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)) ||
	    nlh->nlmsg_pid == own_portid)
		return NFT_WATCH_OTHER;
	if (type == NFT_MSG_NEWGEN)
		return nft_watch_commit(nlh, what, len);
	g = mnl_nlmsg_get_payload(nlh);
	table = nft_watch_str(nlh, 1);
	if (g->nfgen_family != NFPROTO_INET || !table ||
	    strcmp(table, NFT_TABLE_NAME) != 0)
		return NFT_WATCH_OTHER;
	for (size_t i = 0; i < sizeof(nft_watch_msgs) / sizeof(nft_watch_msgs[0]);
	     i++) {
		if (nft_watch_msgs[i].type != type)
			continue;
		name = nft_watch_msgs[i].name_attr
			       ? nft_watch_str(nlh, nft_watch_msgs[i].name_attr)
			       : NULL;
		snprintf(what, len, "%s%s%s", nft_watch_msgs[i].what,
			 name ? " " : "", name ? name : "");
		return NFT_WATCH_CHANGE;
	}
	/* GET requests are never notified; anything else is a change. */
	snprintf(what, len, "nftables message %u on the table", type);
	return NFT_WATCH_CHANGE;
}

struct nft_watch *nft_watch_open(int nsfd, uint32_t own_portid,
				 nft_watch_cb cb, void *arg)
{
	struct nft_watch *nw = calloc(1, sizeof(*nw));
	int group = NFNLGRP_NFTABLES, rcvbuf = NFT_WATCH_RCVBUF, fd, saved;

	if (!nw)
		return NULL;
	nw->nl = netns_mnl_open(nsfd, NETLINK_NETFILTER);
	if (!nw->nl)
		goto fail;
	fd = mnl_socket_get_fd(nw->nl);
	if (mnl_socket_setsockopt(nw->nl, NETLINK_ADD_MEMBERSHIP, &group,
				  sizeof(group)) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1)
		goto fail;
	/* Best effort: the plain limit (rmem_max) when forcing is refused. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) == -1)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	nw->own_portid = own_portid;
	nw->cb = cb;
	nw->arg = arg;
	return nw;
fail:
	saved = errno;
	nft_watch_close(nw);
	errno = saved;
	return NULL;
}

void nft_watch_close(struct nft_watch *nw)
{
	if (!nw)
		return;
	if (nw->nl)
		mnl_socket_close(nw->nl);
	free(nw);
}

int nft_watch_fd(const struct nft_watch *nw)
{
	return mnl_socket_get_fd(nw->nl);
}

static void nft_watch_msg(struct nft_watch *nw, const struct nlmsghdr *nlh)
{
	char what[NFT_WATCH_NOTE_MAX], note[2 * NFT_WATCH_NOTE_MAX + 64];

	switch (nft_watch_classify(nlh, nw->own_portid, what, sizeof(what))) {
	case NFT_WATCH_CHANGE:
		/* The table's own fate is the headline of a transaction
		 * ("table deleted" rather than its first rule's). */
		if (nw->changes++ == 0 || strncmp(what, "table ", 6) == 0)
			snprintf(nw->first, sizeof(nw->first), "%s", what);
		break;
	case NFT_WATCH_COMMIT:
		if (!nw->changes)
			break; /* another table's transaction */
		if (nw->changes > 1)
			snprintf(note, sizeof(note), "%s and %zu more changes by %s",
				 nw->first, nw->changes - 1, what);
		else
			snprintf(note, sizeof(note), "%s by %s", nw->first, what);
		nw->changes = 0;
		nw->cb(note, nw->arg);
		break;
	default:
		break;
	}
}

int nft_watch_dispatch(struct nft_watch *nw)
{
	char buf[NSEG_NL_BUFSZ];
	int lost = 0;

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nw->nl, buf, sizeof(buf));
		int len;

		if (n < 0 && errno == ENOBUFS) {
			/* The transaction being read may have lost its end. */
			nw->changes = 0;
			lost = 1;
			continue;
		}
		if (n < 0)
			break;
		len = (int)n;
		for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		     mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len))
			nft_watch_msg(nw, h);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		return -1;
	if (lost) {
		errno = ENOBUFS;
		return -1;
	}
	return 0;
}
