#include <netinet/in.h>
#include <string.h>

#include "nseg/edge.h"

static const struct {
	int proto;
	const char *name;
} edge_protos[] = {
	{ IPPROTO_TCP, "tcp" },
	{ IPPROTO_UDP, "udp" },
	{ IPPROTO_ICMP, "icmp" },
	{ IPPROTO_ICMPV6, "icmpv6" },
};

const char *nseg_dir_name(int dir)
{
	if (dir == NSEG_EGRESS)
		return "egress";
	if (dir == NSEG_INGRESS)
		return "ingress";
	return NULL;
}

int nseg_dir_parse(const char *s)
{
	if (strcmp(s, "egress") == 0)
		return NSEG_EGRESS;
	if (strcmp(s, "ingress") == 0)
		return NSEG_INGRESS;
	return -1;
}

const char *nseg_proto_name(int proto)
{
	for (size_t i = 0; i < sizeof(edge_protos) / sizeof(edge_protos[0]); i++)
		if (edge_protos[i].proto == proto)
			return edge_protos[i].name;
	return NULL;
}

int nseg_proto_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(edge_protos) / sizeof(edge_protos[0]); i++)
		if (strcmp(edge_protos[i].name, s) == 0)
			return edge_protos[i].proto;
	return -1;
}
