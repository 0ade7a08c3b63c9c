#include <stdio.h>
#include <string.h>

#include "nseg/jsonfmt.h"

json_t *jsonfmt_str(const char *s, size_t max)
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

json_t *jsonfmt_proc(const struct nseg_proc_id *p)
{
	return json_pack("{s:o, s:o}", "exe", JSONFMT_STR(p->exe), "comm",
			 JSONFMT_STR(p->comm));
}

const char *jsonfmt_proto(int proto, char *buf)
{
	const char *name = nseg_proto_name(proto);

	if (name)
		return name;
	snprintf(buf, JSONFMT_PROTO_LEN, "%d", proto);
	return buf;
}

const char *jsonfmt_dir(int dir)
{
	const char *name = nseg_dir_name(dir);

	return name ? name : "unknown";
}
