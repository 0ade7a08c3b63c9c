/*
 * One capture file being written: a new pcap file (libpcap's savefile
 * format, microsecond timestamps) with per-file limits.
 *
 * Writes are buffered (stdio); pcap_file_flush pushes them to the kernel
 * so that a reader sees them and a full disk is noticed. A write error
 * (ENOSPC, EIO, ...) closes the file at once: it is reported once, with
 * errno and a message, and every later write is refused quietly. When a
 * limit is reached the file stops taking packets and is marked truncated
 * with the limit's name; that too is reported once.
 */
#ifndef NSEG_PCAP_FILE_H
#define NSEG_PCAP_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/time.h>

/* Bytes of the file header and of each record's header in a pcap file. */
#define PCAP_FILE_HDR_BYTES 24
#define PCAP_FILE_REC_BYTES 16

/* libpcap's largest snaplen; pcap_file_new refuses a larger one. */
#define PCAP_FILE_MAX_SNAPLEN 262144

/* Why a file takes no more packets. */
enum pcap_file_stop {
	PCAP_FILE_LIVE = 0, /* it still does */
	PCAP_FILE_PACKETS,  /* limits.packets reached */
	PCAP_FILE_BYTES,    /* limits.bytes reached */
	PCAP_FILE_SECONDS,  /* limits.seconds after the first packet */
	PCAP_FILE_QUOTA,    /* the caller found no room (pcap_file_refuse) */
	PCAP_FILE_ERROR,    /* a write failed; the file is closed */
};

/* Per-file limits; 0 means no limit. */
struct pcap_file_limits {
	uint64_t packets; /* packets written */
	uint64_t bytes;	  /* file size, headers included */
	uint32_t seconds; /* timestamps later than the first packet's + this */
};

/* What was written so far. */
struct pcap_file_stats {
	uint64_t packets; /* records written */
	uint64_t bytes;	  /* file size once flushed, headers included */
	uint64_t refused; /* packets refused once stopped */
	enum pcap_file_stop stop;
	int error; /* errno of the write error when stop is PCAP_FILE_ERROR */
};

/* pcap_file_write's results besides -1 (a write error). */
enum pcap_file_wr {
	PCAP_FILE_WR_OK = 0,	  /* written */
	PCAP_FILE_WR_STOPPED = 1, /* refused: a limit was reached just now */
	PCAP_FILE_WR_REFUSED = 2, /* refused: the file stopped earlier */
};

struct pcap_file;

/*
 * Creates the new file path (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600: an
 * existing file or symlink is never overwritten) and writes the pcap
 * header for linktype (DLT_RAW for IPv4/IPv6 packets as NFQUEUE and
 * NFLOG give them, DLT_LINUX_SLL for the "any" device; nothing else) and
 * snaplen (1..PCAP_FILE_MAX_SNAPLEN). lim may be NULL (no limits).
 * Returns the file, owned by the caller (pcap_file_close), or NULL with
 * the reason in err[errlen] and errno set.
 */
struct pcap_file *pcap_file_new(const char *path, int linktype,
				unsigned int snaplen,
				const struct pcap_file_limits *lim, char *err,
				size_t errlen);

/*
 * Writes one packet seen at *ts: its first caplen bytes of data (at most
 * snaplen of them are kept) and its original length origlen (raised to
 * caplen if smaller). Returns a pcap_file_wr, or -1 when the write failed:
 * the reason is in err[errlen], the file is closed, and later writes
 * return PCAP_FILE_WR_REFUSED.
 */
int pcap_file_write(struct pcap_file *f, const struct timeval *ts,
		    const void *data, size_t caplen, size_t origlen, char *err,
		    size_t errlen);

/*
 * The bytes a write of caplen bytes would add to the file (its record
 * header and the data cut to snaplen): what to reserve in the quota.
 */
uint64_t pcap_file_record_bytes(const struct pcap_file *f, size_t caplen);

/*
 * Stops the file taking packets, for a reason of the caller's (only
 * PCAP_FILE_QUOTA is meant for this). No-op if it has stopped already.
 */
void pcap_file_refuse(struct pcap_file *f, enum pcap_file_stop why);

/*
 * Pushes buffered writes to the kernel. Returns 0, or -1 like
 * pcap_file_write (err set, file closed). 0 on a file already closed by an
 * error.
 */
int pcap_file_flush(struct pcap_file *f, char *err, size_t errlen);

/* Fills *st with what f wrote and why it stopped. */
void pcap_file_stats(const struct pcap_file *f, struct pcap_file_stats *st);

/* The path given to pcap_file_new (owned by f). */
const char *pcap_file_path(const struct pcap_file *f);

/* "packets", "bytes", "seconds", "quota", "error", or "" for LIVE. */
const char *pcap_file_stop_str(enum pcap_file_stop why);

/*
 * Flushes, fsyncs when do_fsync, closes and frees f (always, even on
 * failure). Returns 0, or -1 with the reason in err[errlen] if buffered
 * data could not be written now (an earlier write error, already
 * reported, is not reported again). pcap_file_close(NULL, ...) returns 0.
 */
int pcap_file_close(struct pcap_file *f, int do_fsync, char *err,
		    size_t errlen);
/* pcap_file_close without fsync for clean-up paths: a failure is logged
 * (log_warnx), not returned. pcap_file_free(NULL) is a no-op. */
void pcap_file_free(struct pcap_file *f);

#endif
