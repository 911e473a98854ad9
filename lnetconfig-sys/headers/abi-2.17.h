/*
 * liblnetconfig.so.4 as shipped by Lustre 2.17 and later: the subset lutf binds, written
 * from the documented declarations (liblnetconfig.h, cyaml.h, lnet-dlc.h).
 * Differences from 2.16: lustre_lnet_config_route has no `sen`; routing is switched by
 * lustre_lnet_config_routing (lustre_lnet_enable_routing is gone).
 */
#ifndef LUTF_LNETCONFIG_ABI_H
#define LUTF_LNETCONFIG_ABI_H

#include "common.h"

#define LUTF_LNETCONFIG_ABI 217

/* Failures are returned as negative errno values. */
#define LUSTRE_CFG_RC_NO_ERR 0

#include "lnd-tunables-2.16.h"

/* lnetctl net add: the library frees the interface descriptors chained on nw_descr. */
int lustre_lnet_config_ni(struct lnet_dlc_network_descr *nw_descr,
			  struct cfs_expr_list *global_cpts, char *ip2net,
			  struct lnet_ioctl_config_lnd_tunables *tunables, int seq_no,
			  struct cYAML **err_rc);

/* lnetctl route add. */
int lustre_lnet_config_route(char *nw, char *gw, int hops, int prio, int seq_no,
			     struct cYAML **err_rc);

/* lnetctl set routing 0|1. */
int lustre_lnet_config_routing(int enable, int seq_no, struct cYAML **err_rc);

/* lnetctl import [--del|--show|--exec]: f is YAML text of len bytes. */
int lustre_yaml_config(char *f, size_t len, struct cYAML **err_rc);
int lustre_yaml_del(char *f, size_t len, struct cYAML **err_rc);
int lustre_yaml_show(char *f, size_t len, struct cYAML **show_rc,
		     struct cYAML **err_rc);
int lustre_yaml_exec(char *f, size_t len, struct cYAML **show_rc,
		     struct cYAML **err_rc);

#include "calls-common.h"

#endif
