/* The probe table: every probe evident runs, keyed by an enum, and the run
 * function of each (one file per probe in this folder). */
#ifndef EV_PROBES_H
#define EV_PROBES_H

#include <stddef.h>

#include "probe.h"

/* Sorted by id, as the table is. */
enum ev_probe_id {
	EV_PROBE_ACCESS_KEYS = 0,
	EV_PROBE_CLOUDTRAIL,
	EV_PROBE_CLOUDTRAIL_RETENTION,
	EV_PROBE_CONFIG_RECORDER,
	EV_PROBE_CONFIG_RULES,
	EV_PROBE_CONSOLE_MFA,
	EV_PROBE_LEAST_PRIVILEGE,
	EV_PROBE_ROOT_MFA,
	EV_PROBE_ROOT_USAGE,
	EV_PROBE_VPC_ONLY,
	EV_PROBE_COUNT_
};

/* The table (EV_PROBE_COUNT_ rows); never NULL. */
const struct ev_probe *ev_probes(void);
/* By id ("root-mfa"), or NULL. */
const struct ev_probe *ev_probe_find(const char *id);

enum ev_err ev_probe_access_keys_run(struct ev_probe_ctx *ctx);
enum ev_err ev_probe_cloudtrail_run(struct ev_probe_ctx *ctx);
enum ev_err ev_probe_cloudtrail_retention_run(struct ev_probe_ctx *ctx);
enum ev_err ev_probe_config_recorder_run(struct ev_probe_ctx *ctx);
enum ev_err ev_probe_config_rules_run(struct ev_probe_ctx *ctx);
enum ev_err ev_probe_console_mfa_run(struct ev_probe_ctx *ctx);
enum ev_err ev_probe_least_privilege_run(struct ev_probe_ctx *ctx);
enum ev_err ev_probe_root_mfa_run(struct ev_probe_ctx *ctx);
enum ev_err ev_probe_root_usage_run(struct ev_probe_ctx *ctx);
enum ev_err ev_probe_vpc_only_run(struct ev_probe_ctx *ctx);

#endif
