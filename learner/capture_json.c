#include <jansson.h>

#include "nseg/capture_json.h"
#include "nseg/jsonfmt.h"
#include "nseg/timefmt.h"

static int capture_json_opt(json_t *j, const struct store_capture *c)
{
	char ended[TIMEFMT_RFC3339_LEN];

	if (c->ended) {
		if (timefmt_rfc3339(c->ended, ended, sizeof(ended)) == -1 ||
		    json_object_set_new(j, "ended", json_string(ended)) == -1)
			return -1;
	}
	if (c->note[0] &&
	    json_object_set_new(j, "note", JSONFMT_STR(c->note)) == -1)
		return -1;
	if (c->alert_id > 0 &&
	    json_object_set_new(j, "alert", json_integer(c->alert_id)) == -1)
		return -1;
	return 0;
}

json_t *capture_json(const struct store_capture *c)
{
	char started[TIMEFMT_RFC3339_LEN];
	json_t *j;

	if (timefmt_rfc3339(c->started, started, sizeof(started)) == -1)
		return NULL;
	j = json_pack("{s:I, s:o, s:o, s:o, s:o, s:o, s:s, s:I, s:I, s:o}",
		      "id", (json_int_t)c->id, "kind", JSONFMT_STR(c->kind),
		      "workload", JSONFMT_STR(c->workload), "container",
		      JSONFMT_STR(c->container), "filter",
		      JSONFMT_STR(c->filter), "path", JSONFMT_STR(c->path),
		      "started", started, "packets",
		      (json_int_t)(c->packets > INT64_MAX ? INT64_MAX
							  : c->packets),
		      "bytes",
		      (json_int_t)(c->bytes > INT64_MAX ? INT64_MAX : c->bytes),
		      "state", JSONFMT_STR(c->state));
	if (j && capture_json_opt(j, c) == -1) {
		json_decref(j);
		return NULL;
	}
	return j;
}
