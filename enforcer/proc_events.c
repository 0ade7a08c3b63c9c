#include <errno.h>
#include <stdint.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nseg/log.h"
#include "nseg/proc_events.h"

struct proc_events {
	int fd;
	const struct proc_events_ops *ops;
	void *arg;
};

static int proc_events_listen(int fd, enum proc_cn_mcast_op op)
{
	struct {
		struct nlmsghdr nlh;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) msg;

	memset(&msg, 0, sizeof(msg));
	msg.nlh.nlmsg_len = sizeof(msg);
	msg.nlh.nlmsg_type = NLMSG_DONE;
	msg.nlh.nlmsg_pid = (uint32_t)getpid();
	msg.cn.id.idx = CN_IDX_PROC;
	msg.cn.id.val = CN_VAL_PROC;
	msg.cn.len = sizeof(op);
	msg.op = op;
	return send(fd, &msg, sizeof(msg), 0) == -1 ? -1 : 0;
}

struct proc_events *proc_events_open(const struct proc_events_ops *ops,
				     void *arg)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = CN_IDX_PROC };
	struct proc_events *e = calloc(1, sizeof(*e));
	int rcvbuf = 4 << 20;

	if (!e)
		return NULL;
	e->ops = ops;
	e->arg = arg;
	e->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       NETLINK_CONNECTOR);
	if (e->fd == -1)
		goto fail;
	/* Fork storms produce bursts of events: a big buffer keeps the
	 * "lost events, rescan /proc" path rare. */
	setsockopt(e->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	if (bind(e->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    proc_events_listen(e->fd, PROC_CN_MCAST_LISTEN) == -1)
		goto fail;
	return e;
fail:
	log_warn("%s: proc connector", __func__);
	proc_events_close(e);
	return NULL;
}

void proc_events_close(struct proc_events *e)
{
	if (!e)
		return;
	if (e->fd != -1) {
		proc_events_listen(e->fd, PROC_CN_MCAST_IGNORE);
		close(e->fd);
	}
	free(e);
}

int proc_events_fd(const struct proc_events *e)
{
	return e->fd;
}

static void proc_events_one(struct proc_events *e, const struct proc_event *ev)
{
	switch (ev->what) {
	case PROC_EVENT_FORK:
		/* Threads share their process's fds and netns. */
		if (ev->event_data.fork.child_pid ==
		    ev->event_data.fork.child_tgid)
			e->ops->fork(ev->event_data.fork.child_pid, e->arg);
		break;
	case PROC_EVENT_EXEC:
		e->ops->exec(ev->event_data.exec.process_tgid, e->arg);
		break;
	case PROC_EVENT_EXIT:
		if (ev->event_data.exit.process_pid ==
		    ev->event_data.exit.process_tgid)
			e->ops->exit(ev->event_data.exit.process_pid, e->arg);
		break;
	case PROC_EVENT_COMM:
		/* /proc/PID/comm is the main thread's: only its renames
		 * change what a lookup reads. */
		if (e->ops->comm && ev->event_data.comm.process_pid ==
					    ev->event_data.comm.process_tgid)
			e->ops->comm(ev->event_data.comm.process_pid, e->arg);
		break;
	default:
		break;
	}
}

void proc_events_dispatch(struct proc_events *e)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (int i = 0; i < 256; i++) {
		ssize_t n = recv(e->fd, buf, sizeof(buf), 0);
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
		struct proc_event ev;

		if (n == -1) {
			if (errno == ENOBUFS) {
				e->ops->lost(e->arg);
				continue;
			}
			return;
		}
		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			const struct cn_msg *cn = NLMSG_DATA(h);

			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*cn)) ||
			    cn->id.idx != CN_IDX_PROC ||
			    cn->len < sizeof(struct proc_event) ||
			    h->nlmsg_len <
				    NLMSG_LENGTH(sizeof(*cn) + cn->len))
				continue;
			/* cn->data sits at offset 36: copy before reading
			 * the 8-byte-aligned struct. */
			memcpy(&ev, cn->data, sizeof(ev));
			proc_events_one(e, &ev);
		}
	}
}
