/*
 * liblnetconfig.so.4 as shipped by Lustre 2.15: the subset lutf binds, written from the
 * documented declarations of that release (liblnetconfig.h, cyaml.h, lnet-dlc.h).
 * Differences from 2.16: lustre_lnet_config_ni takes `long cpp` (conns_per_peer) before
 * seq_no; routing is switched by lustre_lnet_enable_routing; lustre_yaml_* take a file path;
 * return codes are the LUSTRE_CFG_RC_* values below or -errno; interface names are IFNAMSIZ
 * bytes; the LND tunables are the smaller 2.15 set.
 */
#ifndef LUTF_LNETCONFIG_ABI_H
#define LUTF_LNETCONFIG_ABI_H

#include "common.h"

#define LUTF_LNETCONFIG_ABI 215

/* Return codes of 2.15 (calls that fail in an ioctl return -errno instead). */
#define LUSTRE_CFG_RC_NO_ERR 0
#define LUSTRE_CFG_RC_BAD_PARAM -1
#define LUSTRE_CFG_RC_MISSING_PARAM -2
#define LUSTRE_CFG_RC_OUT_OF_RANGE_PARAM -3
#define LUSTRE_CFG_RC_OUT_OF_MEM -4
#define LUSTRE_CFG_RC_GENERIC_ERR -5
#define LUSTRE_CFG_RC_NO_MATCH -6
#define LUSTRE_CFG_RC_MATCH -7
#define LUSTRE_CFG_RC_SKIP -8
#define LUSTRE_CFG_RC_LAST_ELEM -9
#define LUSTRE_CFG_RC_MARSHAL_FAIL -10

struct lnet_ioctl_config_o2iblnd_tunables {
	__u32 lnd_version;
	__u32 lnd_peercredits_hiw;
	__u32 lnd_map_on_demand;
	__u32 lnd_concurrent_sends;
	__u32 lnd_fmr_pool_size;
	__u32 lnd_fmr_flush_trigger;
	__u32 lnd_fmr_cache;
	__u16 lnd_conns_per_peer;
	__u16 lnd_ntx;
	__u32 lnd_timeout;
};

struct lnet_ioctl_config_kfilnd_tunables {
	__u32 lnd_version;
	__u32 lnd_prov_major_version;
	__u32 lnd_prov_minor_version;
	__u32 lnd_auth_key;
};

struct lnet_ioctl_config_socklnd_tunables {
	__u32 lnd_version;
	__u16 lnd_conns_per_peer;
	__u16 lnd_pad;
	__u32 lnd_timeout;
};

struct lnet_lnd_tunables {
	union {
		struct lnet_ioctl_config_o2iblnd_tunables lnd_o2ib;
		struct lnet_ioctl_config_socklnd_tunables lnd_sock;
		struct lnet_ioctl_config_kfilnd_tunables lnd_kfi;
	} lnd_tun_u;
};

struct lnet_ioctl_config_lnd_tunables {
	struct lnet_ioctl_config_lnd_cmn_tunables lt_cmn;
	struct lnet_lnd_tunables lt_tun;
};

/* An interface of a network: IFNAMSIZ-byte names in 2.15. */
struct lnet_dlc_intf_descr {
	struct list_head intf_on_network;
	char intf_name[IFNAMSIZ];
	struct cfs_expr_list *cpt_expr;
};

/* lnetctl net add: the library frees the interface descriptors chained on nw_descr. */
int lustre_lnet_config_ni(struct lnet_dlc_network_descr *nw_descr,
			  struct cfs_expr_list *global_cpts, char *ip2net,
			  struct lnet_ioctl_config_lnd_tunables *tunables, long cpp,
			  int seq_no, struct cYAML **err_rc);

/* lnetctl route add: sen is the gateway's health sensitivity (-1: default). */
int lustre_lnet_config_route(char *nw, char *gw, int hops, int prio, int sen, int seq_no,
			     struct cYAML **err_rc);

/* lnetctl set routing 0|1. */
int lustre_lnet_enable_routing(int enable, int seq_no, struct cYAML **err_rc);

/* lnetctl import [--del|--show|--exec] FILE: f is the path of a YAML file. */
int lustre_yaml_config(char *f, struct cYAML **err_rc);
int lustre_yaml_del(char *f, struct cYAML **err_rc);
int lustre_yaml_show(char *f, struct cYAML **show_rc, struct cYAML **err_rc);
int lustre_yaml_exec(char *f, struct cYAML **show_rc, struct cYAML **err_rc);

#include "calls-common.h"

#endif
