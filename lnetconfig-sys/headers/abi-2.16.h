/*
 * liblnetconfig.so.4 as shipped by Lustre 2.16: the subset lutf binds, written from the
 * documented declarations of that release (liblnetconfig.h, cyaml.h, lnet-dlc.h).
 * Differences from 2.15: lustre_lnet_config_ni has no `cpp`; lustre_yaml_* take a YAML
 * buffer and its length; return codes are negative errno values; interface names are 128
 * bytes; the LND tunables grew. Routing is still switched by lustre_lnet_enable_routing and
 * lustre_lnet_config_route still takes `sen` (both change in 2.17).
 */
#ifndef LUTF_LNETCONFIG_ABI_H
#define LUTF_LNETCONFIG_ABI_H

#include "common.h"

#define LUTF_LNETCONFIG_ABI 216

/* From 2.16 on, failures are returned as negative errno values. */
#define LUSTRE_CFG_RC_NO_ERR 0

#include "lnd-tunables-2.16.h"

/* lnetctl net add: the library frees the interface descriptors chained on nw_descr. */
int lustre_lnet_config_ni(struct lnet_dlc_network_descr *nw_descr,
			  struct cfs_expr_list *global_cpts, char *ip2net,
			  struct lnet_ioctl_config_lnd_tunables *tunables, int seq_no,
			  struct cYAML **err_rc);

/* lnetctl route add: sen is the gateway's health sensitivity (-1: default). */
int lustre_lnet_config_route(char *nw, char *gw, int hops, int prio, int sen, int seq_no,
			     struct cYAML **err_rc);

/* lnetctl set routing 0|1. */
int lustre_lnet_enable_routing(int enable, int seq_no, struct cYAML **err_rc);

/* lnetctl import [--del|--show|--exec]: f is YAML text of len bytes. */
int lustre_yaml_config(char *f, size_t len, struct cYAML **err_rc);
int lustre_yaml_del(char *f, size_t len, struct cYAML **err_rc);
int lustre_yaml_show(char *f, size_t len, struct cYAML **show_rc,
		     struct cYAML **err_rc);
int lustre_yaml_exec(char *f, size_t len, struct cYAML **show_rc,
		     struct cYAML **err_rc);

#include "calls-common.h"

#endif
