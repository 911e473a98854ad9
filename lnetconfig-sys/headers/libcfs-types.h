/*
 * Declarations written for lutf's lnetconfig-sys from the documented libcfs/LNet user-space
 * types that the bound liblnetconfig calls take. They have not changed between Lustre 2.15
 * and 2.17. No system header is included, so that bindgen needs nothing but libclang.
 */
#ifndef LUTF_LIBCFS_TYPES_H
#define LUTF_LIBCFS_TYPES_H

typedef __UINT8_TYPE__ __u8;
typedef __UINT16_TYPE__ __u16;
typedef __INT16_TYPE__ __s16;
typedef __UINT32_TYPE__ __u32;
typedef __INT32_TYPE__ __s32;
typedef __UINT64_TYPE__ __u64;
typedef __INT64_TYPE__ __s64;
typedef __SIZE_TYPE__ size_t;

/* Interface names are IFNAMSIZ bytes in the kernel (struct ifreq). */
#define IFNAMSIZ 16
/* Size of the string members of the LNet configuration structures. */
#define LNET_MAX_STR_LEN 128

/* Network types (the "LND" half of an LNet network number). */
#define SOCKLND 2
#define O2IBLND 5
#define LOLND 9
#define GNILND 13
#define GNIIPLND 14
#define PTL4LND 15
#define KFILND 16

/* An LNet network number: LND type in the high 16 bits, network number in the low 16. */
#define LNET_NET_ANY 0xffffffffU

/* The kernel-style doubly linked list that liblnetconfig's descriptors are chained on. */
struct list_head {
	struct list_head *next;
	struct list_head *prev;
};

/* One range of a CPT expression: lo..hi every stride ("[0-3/2]" is lo 0, hi 3, stride 2). */
struct cfs_range_expr {
	struct list_head re_link;
	__u32 re_lo;
	__u32 re_hi;
	__u32 re_stride;
};

/* A list of ranges ("[0,2-3]"): a CPT set. */
struct cfs_expr_list {
	struct list_head el_link;
	struct list_head el_exprs;
};

/* The tunables common to every LND (lnetctl's "tunables:"). -1 or 0 means "default". */
struct lnet_ioctl_config_lnd_cmn_tunables {
	__u32 lct_version;
	__s32 lct_peer_timeout;
	__s32 lct_peer_tx_credits;
	__s32 lct_peer_rtr_credits;
	__s32 lct_max_tx_credits;
};

/* A network: its number and the interfaces (struct lnet_dlc_intf_descr) chained on nw_intflist. */
struct lnet_dlc_network_descr {
	struct list_head network_on_rule;
	__u32 nw_id;
	struct list_head nw_intflist;
};

/* The action of a UDSP rule. */
union lnet_udsp_action {
	int udsp_priority;
};

#endif
