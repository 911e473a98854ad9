/*
 * The liblnetconfig calls lutf binds whose signature is the same in Lustre 2.15, 2.16 and
 * 2.17+, written from the documented declarations (lnet/utils/lnetconfig/liblnetconfig.h).
 * Included by each abi-*.h after its ABI-specific types.
 *
 * Conventions of every call: seq_no is echoed into the trees (-1: none); *show_rc receives
 * the result tree and *err_rc the error tree (filled even on success); both are freed with
 * cYAML_free_tree(). The return value is 0 on success.
 */
#ifndef LUTF_CALLS_COMMON_H
#define LUTF_CALLS_COMMON_H

/* Registers /dev/lnet with the library: must be called before any other call. */
int lustre_lnet_config_lib_init(void);
void lustre_lnet_config_lib_uninit(void);

/* lnetctl lnet configure [--all] (up) / unconfigure (!up). */
int lustre_lnet_config_ni_system(_Bool up, _Bool load_ni_from_mod, int seq_no,
				 struct cYAML **err_rc);

/* lnetctl net del: nw_descr->nw_intflist may be empty (whole network); the library frees
 * the interface descriptors it was given. */
int lustre_lnet_del_ni(struct lnet_dlc_network_descr *nw_descr, int seq_no,
		       struct cYAML **err_rc);

/* lnetctl net show [--net NW] [-v DETAIL]. */
int lustre_lnet_show_net(char *nw, int detail, int seq_no, struct cYAML **show_rc,
			 struct cYAML **err_rc, _Bool backup);

/* lnetctl route del / show. */
int lustre_lnet_del_route(char *nw, char *gw, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_route(char *nw, char *gw, int hops, int prio, int detail, int seq_no,
			   struct cYAML **show_rc, struct cYAML **err_rc, _Bool backup);

/* lnetctl set tiny_buffers/small_buffers/large_buffers (-1: leave unchanged). */
int lustre_lnet_config_buffers(int tiny, int small, int large, int seq_no,
			       struct cYAML **err_rc);
/* lnetctl routing show. */
int lustre_lnet_show_routing(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc,
			     _Bool backup);

/* lnetctl stats show / reset. */
int lustre_lnet_show_stats(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc);
int lustre_lnet_reset_stats(int seq_no, struct cYAML **err_rc);

/* lnetctl peer add (cmd 3) / del (cmd 4): nids is a comma separated NID list. */
int lustre_lnet_modify_peer(char *prim_nid, char *nids, _Bool is_mr, int cmd,
			    int force_lock, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_peer(char *knid, int detail, int seq_no, struct cYAML **show_rc,
			  struct cYAML **err_rc, _Bool backup);
int lustre_lnet_list_peer(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc);

/* lnetctl ping [--source SRC] [--timeout] NID (timeout in milliseconds); discover [--force]. */
int lustre_lnet_ping_nid(char *pnid, char *src_nidstr, int timeout, int seq_no,
			 struct cYAML **show_rc, struct cYAML **err_rc);
int lustre_lnet_discover_nid(char *pnid, int force, int seq_no, struct cYAML **show_rc,
			     struct cYAML **err_rc);

/* Global settings: lnetctl set KEY VALUE / global show. */
int lustre_lnet_config_numa_range(int range, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_numa_range(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc);
int lustre_lnet_config_max_intf(int max, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_max_intf(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc);
int lustre_lnet_config_discovery(int enable, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_discovery(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc);
int lustre_lnet_config_drop_asym_route(int drop, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_drop_asym_route(int seq_no, struct cYAML **show_rc,
				     struct cYAML **err_rc);
int lustre_lnet_config_retry_count(int count, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_retry_count(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc);
int lustre_lnet_config_transaction_to(int timeout, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_transaction_to(int seq_no, struct cYAML **show_rc,
				    struct cYAML **err_rc);
int lustre_lnet_config_hsensitivity(int sen, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_hsensitivity(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc);
int lustre_lnet_config_recov_intrv(int intrv, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_recov_intrv(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc);
int lustre_lnet_config_rtr_sensitivity(int sen, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_rtr_sensitivity(int seq_no, struct cYAML **show_rc,
				     struct cYAML **err_rc);
int lustre_lnet_config_response_tracking(int count, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_response_tracking(int seq_no, struct cYAML **show_rc,
				       struct cYAML **err_rc);
int lustre_lnet_config_recovery_limit(int val, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_recovery_limit(int seq_no, struct cYAML **show_rc,
				    struct cYAML **err_rc);
int lustre_lnet_config_max_recovery_ping_interval(int interval, int seq_no,
						  struct cYAML **err_rc);
int lustre_lnet_show_max_recovery_ping_interval(int seq_no, struct cYAML **show_rc,
						struct cYAML **err_rc);
int lustre_lnet_show_lnd_timeout(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc);

/* lnetctl udsp add / del / show (idx -1: all). */
int lustre_lnet_add_udsp(char *src, char *dst, char *rte, char *type,
			 union lnet_udsp_action *action, int idx, int seq_no,
			 struct cYAML **err_rc);
int lustre_lnet_del_udsp(unsigned int idx, int seq_no, struct cYAML **err_rc);
int lustre_lnet_show_udsp(int idx, int seq_no, struct cYAML **show_rc,
			  struct cYAML **err_rc);

#endif
