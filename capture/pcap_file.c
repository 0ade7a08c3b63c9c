#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nseg/log.h"
#include "nseg/pcap_file.h"

/*
 * d is NULL once the file is closed by a write error; st keeps what was
 * written. bytes counts what went into the stdio buffer, which is what
 * the file holds once flushed.
 */
struct pcap_file {
	pcap_t *p;
	pcap_dumper_t *d;
	unsigned int snaplen;
	struct pcap_file_limits lim;
	struct timeval first;
	struct pcap_file_stats st;
	char path[];
};

static const char *const pcap_file_stops[] = {
    [PCAP_FILE_LIVE] = "",	 [PCAP_FILE_PACKETS] = "packets",
    [PCAP_FILE_BYTES] = "bytes", [PCAP_FILE_SECONDS] = "seconds",
    [PCAP_FILE_QUOTA] = "quota", [PCAP_FILE_ERROR] = "error",
};

const char *pcap_file_stop_str(enum pcap_file_stop why)
{
	if ((unsigned int)why >= sizeof(pcap_file_stops) / sizeof(char *))
		return "?";
	return pcap_file_stops[why];
}

/*
 * pcap_dump_fopen closes the FILE itself when it fails to write the
 * header, but not when it rejects the link type; allowing only link types
 * it accepts leaves exactly one failure, with one owner.
 */
static int pcap_file_linktype_ok(int linktype)
{
	return linktype == DLT_RAW || linktype == DLT_LINUX_SLL;
}

static int pcap_file_check_args(const char *path, int linktype,
				unsigned int snaplen, char *err, size_t errlen)
{
	if (!pcap_file_linktype_ok(linktype)) {
		snprintf(err, errlen, "%s: link type %d not supported", path,
			 linktype);
		return -1;
	}
	if (snaplen == 0 || snaplen > PCAP_FILE_MAX_SNAPLEN) {
		snprintf(err, errlen, "%s: snaplen %u out of range 1..%u", path,
			 snaplen, PCAP_FILE_MAX_SNAPLEN);
		return -1;
	}
	return 0;
}

static FILE *pcap_file_create(const char *path, char *err, size_t errlen)
{
	int fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *fp;

	if (fd == -1) {
		snprintf(err, errlen, "cannot create %s: %s%s", path,
			 strerror(errno),
			 errno == EEXIST ? " (refusing to overwrite)" : "");
		return NULL;
	}
	/* Exactly 0600 whatever the umask. */
	if (fchmod(fd, 0600) == -1 || !(fp = fdopen(fd, "w"))) {
		int e = errno;

		snprintf(err, errlen, "cannot create %s: %s", path,
			 strerror(e));
		close(fd);
		unlink(path);
		errno = e;
		return NULL;
	}
	return fp;
}

static struct pcap_file *pcap_file_alloc(const char *path, int linktype,
					 unsigned int snaplen,
					 const struct pcap_file_limits *lim)
{
	size_t n = strlen(path) + 1;
	struct pcap_file *f = calloc(1, sizeof(*f) + n);

	if (!f)
		return NULL;
	memcpy(f->path, path, n);
	f->snaplen = snaplen;
	if (lim)
		f->lim = *lim;
	f->st.bytes = PCAP_FILE_HDR_BYTES;
	f->p = pcap_open_dead(linktype, (int)snaplen);
	if (!f->p) {
		free(f);
		return NULL;
	}
	return f;
}

struct pcap_file *pcap_file_new(const char *path, int linktype,
				unsigned int snaplen,
				const struct pcap_file_limits *lim, char *err,
				size_t errlen)
{
	struct pcap_file *f;
	FILE *fp;

	if (pcap_file_check_args(path, linktype, snaplen, err, errlen) == -1) {
		errno = EINVAL;
		return NULL;
	}
	f = pcap_file_alloc(path, linktype, snaplen, lim);
	if (!f) {
		snprintf(err, errlen, "%s: out of memory", path);
		errno = ENOMEM;
		return NULL;
	}
	fp = pcap_file_create(path, err, errlen);
	if (!fp)
		goto fail;
	f->d = pcap_dump_fopen(f->p, fp); /* closes fp on failure */
	if (!f->d) {
		snprintf(err, errlen, "%s: %s", path, pcap_geterr(f->p));
		unlink(path);
		errno = EIO;
		goto fail;
	}
	return f;
fail:
	pcap_close(f->p);
	free(f);
	return NULL;
}

/* Closes f after a write error e; later writes are refused. */
static int pcap_file_fail(struct pcap_file *f, int e, const char *what,
			  char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s: %s", f->path, what, strerror(e));
	pcap_dump_close(f->d);
	f->d = NULL;
	f->st.stop = PCAP_FILE_ERROR;
	f->st.error = e;
	errno = e;
	return -1;
}

uint64_t pcap_file_record_bytes(const struct pcap_file *f, size_t caplen)
{
	return PCAP_FILE_REC_BYTES +
	       (caplen < f->snaplen ? caplen : f->snaplen);
}

static int64_t pcap_file_usec(const struct timeval *tv)
{
	return (int64_t)tv->tv_sec * 1000000 + tv->tv_usec;
}

/* The limit a record of rec bytes at *ts would break, or LIVE. */
static enum pcap_file_stop pcap_file_limit(const struct pcap_file *f,
					   const struct timeval *ts,
					   uint64_t rec)
{
	const struct pcap_file_limits *l = &f->lim;

	if (l->packets && f->st.packets >= l->packets)
		return PCAP_FILE_PACKETS;
	if (l->bytes && f->st.bytes + rec > l->bytes)
		return PCAP_FILE_BYTES;
	if (l->seconds && f->st.packets &&
	    pcap_file_usec(ts) - pcap_file_usec(&f->first) >
		(int64_t)l->seconds * 1000000)
		return PCAP_FILE_SECONDS;
	return PCAP_FILE_LIVE;
}

void pcap_file_refuse(struct pcap_file *f, enum pcap_file_stop why)
{
	if (f->st.stop == PCAP_FILE_LIVE)
		f->st.stop = why;
}

static void pcap_file_dump(struct pcap_file *f, const struct timeval *ts,
			   const void *data, size_t caplen, size_t origlen)
{
	struct pcap_pkthdr h;

	h.ts = *ts;
	h.caplen = (bpf_u_int32)caplen;
	h.len = origlen > UINT32_MAX ? UINT32_MAX : (bpf_u_int32)origlen;
	pcap_dump((u_char *)f->d, &h, data);
}

int pcap_file_write(struct pcap_file *f, const struct timeval *ts,
		    const void *data, size_t caplen, size_t origlen, char *err,
		    size_t errlen)
{
	uint64_t rec = pcap_file_record_bytes(f, caplen);
	enum pcap_file_stop why;

	if (f->st.stop != PCAP_FILE_LIVE) {
		f->st.refused++;
		return PCAP_FILE_WR_REFUSED;
	}
	why = pcap_file_limit(f, ts, rec);
	if (why != PCAP_FILE_LIVE) {
		f->st.stop = why;
		f->st.refused++;
		return PCAP_FILE_WR_STOPPED;
	}
	caplen = rec - PCAP_FILE_REC_BYTES;
	if (origlen < caplen)
		origlen = caplen;
	errno = 0;
	pcap_file_dump(f, ts, data, caplen, origlen);
	if (ferror(pcap_dump_file(f->d)))
		return pcap_file_fail(f, errno ? errno : EIO, "write", err,
				      errlen);
	if (f->st.packets++ == 0)
		f->first = *ts;
	f->st.bytes += rec;
	return PCAP_FILE_WR_OK;
}

int pcap_file_flush(struct pcap_file *f, char *err, size_t errlen)
{
	if (!f->d)
		return 0;
	if (pcap_dump_flush(f->d) == -1)
		return pcap_file_fail(f, errno ? errno : EIO, "write", err,
				      errlen);
	return 0;
}

void pcap_file_stats(const struct pcap_file *f, struct pcap_file_stats *st)
{
	*st = f->st;
}

const char *pcap_file_path(const struct pcap_file *f)
{
	return f->path;
}

int pcap_file_close(struct pcap_file *f, int do_fsync, char *err, size_t errlen)
{
	int rc = 0;

	if (!f)
		return 0;
	if (f->d) {
		rc = pcap_file_flush(f, err, errlen);
		if (rc == 0 && do_fsync &&
		    fsync(fileno(pcap_dump_file(f->d))) == -1)
			rc = pcap_file_fail(f, errno, "fsync", err, errlen);
		if (f->d)
			pcap_dump_close(f->d);
	}
	pcap_close(f->p);
	free(f);
	return rc;
}

void pcap_file_free(struct pcap_file *f)
{
	char err[512];

	if (pcap_file_close(f, 0, err, sizeof(err)) == -1)
		log_warnx("%s", err);
}
