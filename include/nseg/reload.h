/* SIGHUP: configuration reload (enforcer/reload.c). */
#ifndef NSEG_RELOAD_H
#define NSEG_RELOAD_H

struct daemon;

/* Reads the configuration again and applies what can change at run time.
 * Returns 0, or -1 with the running configuration untouched (logged). */
int reload_config(struct daemon *d);

#endif
