#include <stdio.h>
#include <string.h>

#include "nseg/edge_json.h"
#include "nseg/log.h"
#include "nseg/timefmt.h"

/*
 * A JSON string of a fixed-size field. Paths and comm are bytes, not
 * UTF-8: a value that is not valid UTF-8 is shown with each non-ASCII byte
 * as '?' rather than failing the whole edge.
 */
static json_t *edge_json_str(const char *s, size_t max)
{
	char buf[NSEG_EXE_MAX];
	size_t n = strnlen(s, max);
	json_t *j = json_stringn(s, n);

	if (j != NULL || n >= sizeof(buf))
		return j;
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	return json_stringn(buf, n);
}

#define EDGE_JSON_STR(field) edge_json_str((field), sizeof(field))

static json_t *edge_json_proc(const struct nseg_proc_id *p)
{
	return json_pack("{s:o, s:o}", "exe", EDGE_JSON_STR(p->exe), "comm",
			 EDGE_JSON_STR(p->comm));
}

static json_t *edge_json_peer(const struct nseg_edge_key *k)
{
	json_t *peer, *proc;

	peer = json_pack("{s:o}", "identity", EDGE_JSON_STR(k->peer));
	if (peer == NULL || k->peer_proc.exe[0] == '\0')
		return peer;
	if ((proc = edge_json_proc(&k->peer_proc)) == NULL ||
	    json_object_set_new(peer, "process", proc) == -1) {
		json_decref(peer);
		return NULL;
	}
	return peer;
}

static int edge_json_times(const struct store_edge *e, char *first,
			   char *last)
{
	if (timefmt_rfc3339(e->first_seen, first, TIMEFMT_RFC3339_LEN) == 0 &&
	    timefmt_rfc3339(e->last_seen, last, TIMEFMT_RFC3339_LEN) == 0)
		return 0;
	log_warnx("edge %lld: first/last seen %lld/%lld out of range",
		  (long long)e->id, (long long)e->first_seen,
		  (long long)e->last_seen);
	return -1;
}

json_t *edge_json(const struct store_edge *e)
{
	const struct nseg_edge_key *k = &e->key;
	char first[TIMEFMT_RFC3339_LEN], last[TIMEFMT_RFC3339_LEN];
	char protobuf[8];
	const char *proto = nseg_proto_name(k->proto);
	const char *dir = nseg_dir_name(k->dir);

	if (edge_json_times(e, first, last) == -1)
		return NULL;
	if (proto == NULL) {
		snprintf(protobuf, sizeof(protobuf), "%u", k->proto);
		proto = protobuf;
	}
	/* o: the builders' NULL fails the whole pack and frees what was built. */
	return json_pack("{s:I, s:o, s:o, s:s, s:o, s:o, s:s, s:i, s:o,"
			 " s:I, s:s, s:s}",
			 "id", (json_int_t)e->id, "workload",
			 EDGE_JSON_STR(k->workload), "version",
			 EDGE_JSON_STR(k->version), "direction",
			 dir ? dir : "unknown", "process",
			 edge_json_proc(&k->proc), "peer", edge_json_peer(k),
			 "protocol", proto, "port", (int)k->port, "state",
			 EDGE_JSON_STR(e->state), "count",
			 (json_int_t)(e->count > INT64_MAX ? INT64_MAX
							   : e->count),
			 "first_seen", first, "last_seen", last);
}
