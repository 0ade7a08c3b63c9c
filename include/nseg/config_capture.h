/*
 * The capture: section of nsegd.yaml: where pcap files go, how much disk
 * they may take, and how much of each anomalous flow is kept.
 */
#ifndef NSEG_CONFIG_CAPTURE_H
#define NSEG_CONFIG_CAPTURE_H

#include <stdint.h>
#include <stdio.h>

#define CONFIG_CAPTURE_DIR_MAX 256

struct config_capture {
	int enabled;			      /* enabled: pcap of each alert */
	char dir[CONFIG_CAPTURE_DIR_MAX + 1]; /* dir */
	uint64_t quota;			      /* quota: bytes of all pcaps */
	uint32_t packets;		      /* packets: per alert */
	uint64_t bytes;			      /* bytes: per alert */
	uint32_t seconds_ms;		      /* seconds: per alert */
	uint32_t ring;	    /* ring: recent packets kept per workload */
	uint32_t ring_ms;   /* ring_seconds: how far back they go */
	uint32_t snaplen;   /* snaplen: bytes kept of each packet */
};

struct yaml_node;
struct yaml_error;

void config_capture_defaults(struct config_capture *c);
/* Parses the capture: mapping into c. Returns 0, or -1 with err set. */
int config_capture_parse(struct config_capture *c, const struct yaml_node *v,
			 struct yaml_error *err);
/* Writes "capture:" and its keys as YAML that parses back to c. */
void config_capture_write(const struct config_capture *c, FILE *out);

#endif
