#include <string.h>

#include "nseg/edge_json.h"
#include "nseg/jsonfmt.h"
#include "nseg/log.h"
#include "nseg/timefmt.h"

static json_t *edge_json_peer(const struct nseg_edge_key *k)
{
	json_t *peer, *proc;

	peer = json_pack("{s:o}", "identity", JSONFMT_STR(k->peer));
	if (peer == NULL || k->peer_proc.exe[0] == '\0')
		return peer;
	if ((proc = jsonfmt_proc(&k->peer_proc)) == NULL ||
	    json_object_set_new(peer, "process", proc) == -1) {
		json_decref(peer);
		return NULL;
	}
	return peer;
}

static int edge_json_times(const struct store_edge *e, char *first,
			   char *last, char *decided)
{
	if (timefmt_rfc3339(e->first_seen, first, TIMEFMT_RFC3339_LEN) == 0 &&
	    timefmt_rfc3339(e->last_seen, last, TIMEFMT_RFC3339_LEN) == 0 &&
	    (e->decided_at == 0 ||
	     timefmt_rfc3339(e->decided_at, decided, TIMEFMT_RFC3339_LEN) == 0))
		return 0;
	log_warnx("edge %lld: first/last seen %lld/%lld or decided at %lld "
		  "out of range",
		  (long long)e->id, (long long)e->first_seen,
		  (long long)e->last_seen, (long long)e->decided_at);
	return -1;
}

/* The decision's keys exist only once there was a decision. */
static int edge_json_decision(json_t *j, const struct store_edge *e,
			      const char *decided)
{
	if (e->decided_by[0] != '\0' &&
	    json_object_set_new(j, "decided_by",
				JSONFMT_STR(e->decided_by)) == -1)
		return -1;
	if (e->decided_at != 0 &&
	    json_object_set_new(j, "decided_at", json_string(decided)) == -1)
		return -1;
	return 0;
}

/* Usage belongs to approved edges: only they are enforcement rules. */
static int edge_json_usage(json_t *j, const struct store_edge *e)
{
	char used[TIMEFMT_RFC3339_LEN];
	json_int_t hits = (json_int_t)(e->hits > INT64_MAX ? INT64_MAX
							  : e->hits);

	if (strcmp(e->state, "approved") != 0)
		return 0;
	if (json_object_set_new(j, "hits", json_integer(hits)) == -1)
		return -1;
	if (e->last_used == 0)
		return 0;
	if (timefmt_rfc3339(e->last_used, used, sizeof(used)) == -1) {
		log_warnx("edge %lld: last used %lld out of range",
			  (long long)e->id, (long long)e->last_used);
		return -1;
	}
	return json_object_set_new(j, "last_used", json_string(used));
}

/* Where the edge came from: a deviation only, a policy (whose rule may
 * span ports) or learning. */
static int edge_json_policy(json_t *j, const struct store_edge *e)
{
	if (e->port_hi > e->key.port &&
	    json_object_set_new(j, "port_hi", json_integer(e->port_hi)) == -1)
		return -1;
	if (e->deviation &&
	    json_object_set_new(j, "deviation", json_true()) == -1)
		return -1;
	if (!e->origin[0])
		return json_object_set_new(j, "origin", json_string("learned"));
	return json_object_set_new(j, "origin", JSONFMT_STR(e->origin));
}

json_t *edge_json(const struct store_edge *e)
{
	const struct nseg_edge_key *k = &e->key;
	char first[TIMEFMT_RFC3339_LEN], last[TIMEFMT_RFC3339_LEN];
	char decided[TIMEFMT_RFC3339_LEN], proto[JSONFMT_PROTO_LEN];
	json_t *j;

	if (edge_json_times(e, first, last, decided) == -1)
		return NULL;
	/* o: the builders' NULL fails the whole pack and frees what was built. */
	j = json_pack("{s:I, s:o, s:o, s:s, s:o, s:o, s:s, s:i, s:o,"
		      " s:I, s:s, s:s, s:b}",
		      "id", (json_int_t)e->id, "workload",
		      JSONFMT_STR(k->workload), "version",
		      JSONFMT_STR(k->version), "direction", jsonfmt_dir(k->dir),
		      "process", jsonfmt_proc(&k->proc), "peer",
		      edge_json_peer(k), "protocol",
		      jsonfmt_proto(k->proto, proto), "port", (int)k->port,
		      "state", JSONFMT_STR(e->state), "count",
		      (json_int_t)(e->count > INT64_MAX ? INT64_MAX : e->count),
		      "first_seen", first, "last_seen", last, "any_process",
		      e->any_process != 0);
	if (j != NULL && (edge_json_decision(j, e, decided) == -1 ||
			  edge_json_usage(j, e) == -1 ||
			  edge_json_policy(j, e) == -1)) {
		json_decref(j);
		return NULL;
	}
	return j;
}
