#include <stdint.h>

#include "nseg/alert_json.h"
#include "nseg/jsonfmt.h"
#include "nseg/log.h"
#include "nseg/timefmt.h"

static int alert_json_times(const struct store_alert *a, char *first,
			    char *last)
{
	if (timefmt_rfc3339(a->time_first, first, TIMEFMT_RFC3339_LEN) == 0 &&
	    timefmt_rfc3339(a->time_last, last, TIMEFMT_RFC3339_LEN) == 0)
		return 0;
	log_warnx("alert %lld: time/last seen %lld/%lld out of range",
		  (long long)a->id, (long long)a->time_first,
		  (long long)a->time_last);
	return -1;
}

static json_t *alert_json_peer(const struct store_alert *a)
{
	return json_pack("{s:o, s:o}", "identity", JSONFMT_STR(a->peer),
			 "address", JSONFMT_STR(a->peer_address));
}

json_t *alert_json(const struct store_alert *a)
{
	char first[TIMEFMT_RFC3339_LEN], last[TIMEFMT_RFC3339_LEN];
	char proto[JSONFMT_PROTO_LEN];
	json_t *j;

	if (alert_json_times(a, first, last) == -1)
		return NULL;
	/* o: the builders' NULL fails the whole pack and frees what was built. */
	j = json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:I, s:o, s:s, s:o,"
			 " s:s, s:i, s:o, s:o, s:I, s:I}",
			 "id", (json_int_t)a->id, "time", first, "last_seen",
			 last, "workload", JSONFMT_STR(a->workload), "version",
			 JSONFMT_STR(a->version), "container",
			 JSONFMT_STR(a->container), "pid", (json_int_t)a->pid,
			 "process", jsonfmt_proc(&a->proc), "direction",
			 jsonfmt_dir(a->dir), "peer", alert_json_peer(a),
			 "protocol", jsonfmt_proto(a->proto, proto), "port",
			 (int)a->port, "action", JSONFMT_STR(a->action), "kind",
			 JSONFMT_STR(a->kind), "count",
			 (json_int_t)(a->count > INT64_MAX ? INT64_MAX
							   : a->count),
			 "baseline", (json_int_t)a->baseline);
	if (j && ((a->baseline_version[0] &&
		   json_object_set_new(j, "baseline_version",
				       JSONFMT_STR(a->baseline_version)) ==
			   -1) ||
		  (a->pcap[0] && json_object_set_new(j, "pcap",
						     JSONFMT_STR(a->pcap)) ==
					 -1) ||
		  (a->pcap_note[0] &&
		   json_object_set_new(j, "pcap_note",
				       JSONFMT_STR(a->pcap_note)) == -1))) {
		json_decref(j);
		return NULL;
	}
	return j;
}
