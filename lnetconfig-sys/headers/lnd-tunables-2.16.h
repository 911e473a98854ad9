/*
 * The LND tunables as they grew in Lustre 2.16 (and are in 2.17+): socklnd and o2iblnd
 * gained a type of service, kfilnd a traffic class, and gnilnd its own member.
 * Written from the documented lnet-dlc.h; lnetctl's "lnd tunables:".
 */
#ifndef LUTF_LND_TUNABLES_216_H
#define LUTF_LND_TUNABLES_216_H

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
	__s32 lnd_tos;
};

struct lnet_ioctl_config_kfilnd_tunables {
	__u32 lnd_version;
	__u32 lnd_prov_major_version;
	__u32 lnd_prov_minor_version;
	__u32 lnd_auth_key;
	char lnd_traffic_class_str[LNET_MAX_STR_LEN];
	__u32 lnd_traffic_class;
};

struct lnet_ioctl_config_socklnd_tunables {
	__u32 lnd_version;
	__u16 lnd_conns_per_peer;
	__u16 lnd_pad;
	__u32 lnd_timeout;
	__s16 lnd_tos;
};

struct lnet_ioctl_config_gnilnd_tunables {
	__u32 lnd_version;
	__s32 lnd_timeout;
};

struct lnet_lnd_tunables {
	union {
		struct lnet_ioctl_config_o2iblnd_tunables lnd_o2ib;
		struct lnet_ioctl_config_socklnd_tunables lnd_sock;
		struct lnet_ioctl_config_kfilnd_tunables lnd_kfi;
		struct lnet_ioctl_config_gnilnd_tunables lnd_gni;
	} lnd_tun_u;
};

struct lnet_ioctl_config_lnd_tunables {
	struct lnet_ioctl_config_lnd_cmn_tunables lt_cmn;
	struct lnet_lnd_tunables lt_tun;
};

/* An interface of a network: 128-byte names from 2.16 on. */
struct lnet_dlc_intf_descr {
	struct list_head intf_on_network;
	char intf_name[LNET_MAX_STR_LEN];
	struct cfs_expr_list *cpt_expr;
};

#endif
