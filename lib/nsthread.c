#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>

#include "nseg/log.h"
#include "nseg/nsthread.h"

struct nsthread_job {
	int nsfd;
	int (*fn)(void *arg);
	void *arg;
	int rc;
	int err;
};

/* 0 for a network namespace fd, else the errno to fail with: EBADF, or
 * EINVAL for another file (ENOTTY from the ioctl) or namespace type. */
static int nsthread_probe(int nsfd, const char **why)
{
	int type;

	if (nsfd < 0 || fcntl(nsfd, F_GETFD) == -1) {
		*why = "not an open file descriptor";
		return EBADF;
	}
	type = ioctl(nsfd, NS_GET_NSTYPE);
	if (type == -1) {
		*why = "not a namespace";
		return EINVAL;
	}
	if (type != CLONE_NEWNET) {
		*why = "a namespace, but not a network namespace";
		return EINVAL;
	}
	*why = NULL;
	return 0;
}

const char *nsthread_check(int nsfd)
{
	const char *why;

	nsthread_probe(nsfd, &why);
	return why;
}

static void *nsthread_main(void *p)
{
	struct nsthread_job *job = p;

	if (setns(job->nsfd, CLONE_NEWNET) == -1) {
		job->err = errno;
		log_warn("%s: setns", __func__);
		return NULL;
	}
	errno = 0;
	job->rc = job->fn(job->arg);
	job->err = errno;
	return NULL;
}

/* The thread inherits the creator's signal mask: block everything so no
 * process-directed signal is delivered to it instead of the main loop. */
static int nsthread_start(pthread_t *t, struct nsthread_job *job)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(t, NULL, nsthread_main, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

int nsthread_run(int nsfd, int (*fn)(void *arg), void *arg)
{
	struct nsthread_job job = {nsfd, fn, arg, -1, 0};
	const char *why;
	pthread_t t;
	int rc;

	rc = nsthread_probe(nsfd, &why);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	rc = nsthread_start(&t, &job);
	if (rc != 0) {
		errno = rc;
		log_warn("%s: pthread_create", __func__);
		return -1;
	}
	pthread_join(t, NULL);
	errno = job.err;
	return job.rc;
}
