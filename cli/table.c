#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nseg/cli.h"

struct table {
	size_t ncols;
	const char *const *headers;
	char **cells; /* nrows * ncols */
	size_t nrows;
	size_t cap; /* rows */
};

struct table *table_new(size_t ncols, const char *const *headers)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ncols = ncols;
	t->headers = headers;
	return t;
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void table_clean(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	if (!len)
		return;
	for (; src[i] && i + 1 < len; i++) {
		unsigned char ch = (unsigned char)src[i];
		dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	dst[i] = '\0';
}

int table_add_row(struct table *t, const char *const *cells)
{
	char **row;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **p = realloc(t->cells, cap * t->ncols * sizeof(*p));

		if (!p)
			return -1;
		t->cells = p;
		t->cap = cap;
	}
	row = t->cells + t->nrows * t->ncols;
	for (size_t c = 0; c < t->ncols; c++) {
		const char *src = cells[c] ? cells[c] : "-";
		size_t n = strlen(src) + 1;

		row[c] = malloc(n);
		if (!row[c]) {
			while (c--)
				free(row[c]);
			return -1;
		}
		table_clean(row[c], n, src);
	}
	t->nrows++;
	return 0;
}

/* Display width: counts UTF-8 lead bytes, good enough for names. */
static size_t table_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* Writes s with control characters replaced, like table_clean(). */
static void table_put(const char *s, FILE *f)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		fputc((ch < 0x20 || ch == 0x7f) ? '?' : ch, f);
	}
}

void table_print_fixed(size_t ncols, const char *const *row,
		       const size_t *widths, FILE *f)
{
	for (size_t c = 0; c < ncols; c++) {
		const char *cell = row[c] ? row[c] : "-";
		size_t w = table_width(cell);

		table_put(cell, f);
		if (c + 1 == ncols) {
			fputc('\n', f);
			break;
		}
		fprintf(f, "%*s", (int)(w < widths[c] ? widths[c] - w + 2 : 2),
			"");
	}
}

void table_print(const struct table *t, FILE *f)
{
	size_t *widths = calloc(t->ncols, sizeof(*widths));

	if (!widths)
		return;
	for (size_t c = 0; c < t->ncols; c++) {
		widths[c] = table_width(t->headers[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = table_width(t->cells[r * t->ncols + c]);
			if (w > widths[c])
				widths[c] = w;
		}
	}
	table_print_fixed(t->ncols, t->headers, widths, f);
	for (size_t r = 0; r < t->nrows; r++)
		table_print_fixed(t->ncols,
				  (const char *const *)t->cells + r * t->ncols,
				  widths, f);
	free(widths);
}

const json_t *table_get(const json_t *rec, const char *path)
{
	char key[256];
	const char *dot;

	while (rec && (dot = strchr(path, '.'))) {
		size_t n = (size_t)(dot - path);

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		rec = json_object_get(rec, key);
		path = dot + 1;
	}
	return rec ? json_object_get(rec, path) : NULL;
}

const char *table_fmt_process(const json_t *proc, char *buf, size_t len)
{
	char comm[64], exe[1024];

	table_fmt(table_get(proc, "comm"), comm, sizeof(comm));
	table_fmt(table_get(proc, "exe"), exe, sizeof(exe));
	if (strcmp(comm, "-") && strcmp(exe, "-"))
		snprintf(buf, len, "%s(%s)", comm, exe);
	else
		snprintf(buf, len, "%s", strcmp(exe, "-") ? exe : comm);
	return buf;
}

static int table_is_scalar(const json_t *v)
{
	return json_is_string(v) || json_is_number(v) || json_is_boolean(v);
}

static void table_fmt_array(const json_t *v, char *buf, size_t len)
{
	size_t i, off = 0;
	const json_t *e;
	char one[512];

	buf[0] = '\0';
	json_array_foreach(v, i, e)
	{
		if (!table_is_scalar(e)) {
			char *s = json_dumps(v, JSON_COMPACT);
			table_clean(buf, len, s ? s : "-");
			free(s);
			return;
		}
	}
	json_array_foreach(v, i, e)
	{
		int n = snprintf(buf + off, len - off, "%s%s", i ? "," : "",
				 table_fmt(e, one, sizeof(one)));
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
}

const char *table_fmt(const json_t *v, char *buf, size_t len)
{
	snprintf(buf, len, "-");
	if (json_is_string(v) && json_string_length(v) > 0)
		table_clean(buf, len, json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
			 json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else if (json_is_array(v) && json_array_size(v) > 0)
		table_fmt_array(v, buf, len);
	else if (json_is_object(v) && json_object_size(v) > 0) {
		char *s = json_dumps(v, JSON_COMPACT);
		table_clean(buf, len, s ? s : "-");
		free(s);
	}
	return buf;
}
