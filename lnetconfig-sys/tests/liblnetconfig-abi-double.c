/*
 * liblnetconfig-abi-double: a stand-in for Lustre's liblnetconfig.so.4, for tests only.
 *
 * It is compiled once per supported ABI against the same declaration headers the bindings
 * are generated from:
 *     cc -shared -fPIC -I headers -include abi-2.15.h -o liblnetconfig-abi-double-2.15.so THIS
 * and exports the bound symbols with that ABI's signatures. It never talks to a kernel:
 *
 *   - every call appends one line to the record file: the call's name and every argument
 *     as it arrived (strings, integers, the interface list, the CPT list, the tunables),
 *     TAB separated as key=value. The file is set with lnetconfig_double_record_to(path) or,
 *     failing that, named by the LNETCONFIG_DOUBLE_RECORD environment variable;
 *   - every call fills the error tree the way liblnetconfig does (cmd -> [entity -> errno,
 *     descr], descr carrying its own quotes), even on success;
 *   - show calls return a prepared tree shaped like the real one, plus "received": the
 *     arguments echoed back, and a few nodes of every cYAML type;
 *   - lnetconfig_double_fail_next(rc, descr) makes the next call fail with rc and descr
 *     (LNETCONFIG_DOUBLE_FAIL="rc:descr" in the environment: every call of the process);
 *   - trees and interface descriptors are counted, so tests can prove every tree handed out
 *     was freed (lnetconfig_double_live_nodes()) and that the library freed the interface
 *     descriptors it was given, as the real one does;
 *   - calls that overlap in time (from several threads) are counted
 *     (lnetconfig_double_overlaps()): the real library is not thread-safe, so callers must
 *     serialise; each call lasts at least 100 microseconds to make overlaps likely.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef LUTF_LNETCONFIG_ABI
#error "compile with -include abi-2.NN.h"
#endif

#define EXPORT __attribute__((visibility("default")))

/* ---- control and bookkeeping ------------------------------------------------------- */

static char record_path[4096];
static int fail_rc;
static char fail_descr[256];
static long live_nodes;
static long freed_intf_descrs;
static int lib_initialised;
static int in_call;
static long overlaps;

EXPORT void lnetconfig_double_record_to(const char *path)
{
	snprintf(record_path, sizeof(record_path), "%s", path ? path : "");
}

EXPORT void lnetconfig_double_fail_next(int rc, const char *descr)
{
	fail_rc = rc;
	snprintf(fail_descr, sizeof(fail_descr), "%s", descr ? descr : "");
}

EXPORT long lnetconfig_double_live_nodes(void)
{
	return live_nodes;
}

EXPORT long lnetconfig_double_freed_intf_descrs(void)
{
	return freed_intf_descrs;
}

EXPORT long lnetconfig_double_overlaps(void)
{
	return __atomic_load_n(&overlaps, __ATOMIC_SEQ_CST);
}

EXPORT int lnetconfig_double_abi(void)
{
	return LUTF_LNETCONFIG_ABI;
}

/* One record line being built. */
struct rec {
	char buf[8192];
	size_t len;
};

static void rec_add(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len >= sizeof(r->buf))
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, sizeof(r->buf) - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n;
}

static void rec_begin(struct rec *r, const char *call)
{
	struct timespec pause = { 0, 100 * 1000 };

	if (__atomic_fetch_add(&in_call, 1, __ATOMIC_SEQ_CST) != 0)
		__atomic_fetch_add(&overlaps, 1, __ATOMIC_SEQ_CST);
	nanosleep(&pause, NULL);
	r->len = 0;
	rec_add(r, "call=%s", call);
	rec_add(r, "\tlib_init=%d", lib_initialised);
}

static void rec_str(struct rec *r, const char *key, const char *value)
{
	rec_add(r, "\t%s=%s", key, value ? value : "(null)");
}

static void rec_int(struct rec *r, const char *key, long long value)
{
	rec_add(r, "\t%s=%lld", key, value);
}

static void rec_end(struct rec *r)
{
	const char *path = record_path[0] ? record_path : getenv("LNETCONFIG_DOUBLE_RECORD");
	FILE *f;

	__atomic_fetch_sub(&in_call, 1, __ATOMIC_SEQ_CST);
	if (!path || !path[0])
		return;
	f = fopen(path, "a");
	if (!f)
		return;
	fprintf(f, "%.*s\n", (int)r->len, r->buf);
	fclose(f);
}

/* ---- cYAML trees ------------------------------------------------------------------- */

static struct cYAML *node_new(struct cYAML *parent, const char *key, enum cYAML_object_type t)
{
	struct cYAML *n = calloc(1, sizeof(*n));

	if (!n)
		abort();
	live_nodes++;
	n->cy_type = t;
	if (key)
		n->cy_string = strdup(key);
	if (parent) {
		if (!parent->cy_child) {
			parent->cy_child = n;
		} else {
			struct cYAML *last = parent->cy_child;

			while (last->cy_next)
				last = last->cy_next;
			last->cy_next = n;
			n->cy_prev = last;
		}
	}
	return n;
}

static struct cYAML *obj(struct cYAML *parent, const char *key)
{
	return node_new(parent, key, CYAML_TYPE_OBJECT);
}

static struct cYAML *seq(struct cYAML *parent, const char *key)
{
	return node_new(parent, key, CYAML_TYPE_ARRAY);
}

/* An item of a sequence: an object without a key. */
static struct cYAML *item(struct cYAML *seq)
{
	return node_new(seq, NULL, CYAML_TYPE_OBJECT);
}

static struct cYAML *str(struct cYAML *parent, const char *key, const char *value)
{
	struct cYAML *n = node_new(parent, key, CYAML_TYPE_STRING);

	n->cy_valuestring = strdup(value ? value : "");
	return n;
}

static struct cYAML *num(struct cYAML *parent, const char *key, double value)
{
	struct cYAML *n = node_new(parent, key, CYAML_TYPE_NUMBER);

	n->cy_valueint = (long long)value;
	n->cy_valuedouble = value;
	return n;
}

static struct cYAML *flag(struct cYAML *parent, const char *key, int value)
{
	return node_new(parent, key, value ? CYAML_TYPE_TRUE : CYAML_TYPE_FALSE);
}

static struct cYAML *null_node(struct cYAML *parent, const char *key)
{
	return node_new(parent, key, CYAML_TYPE_NULL);
}

static void str_or_null(struct cYAML *parent, const char *key, const char *value)
{
	if (value)
		str(parent, key, value);
	else
		null_node(parent, key);
}

EXPORT void cYAML_free_tree(struct cYAML *node)
{
	while (node) {
		struct cYAML *next = node->cy_next;

		cYAML_free_tree(node->cy_child);
		free(node->cy_valuestring);
		free(node->cy_string);
		free(node);
		live_nodes--;
		node = next;
	}
}

/* Text output, as lnetctl prints trees: strings as they are (liblnetconfig puts quotes
 * inside the strings that need them), numbers as integers when they are whole. */
struct text {
	char *buf;
	size_t len, cap;
};

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len)
			break;
		t->cap = t->cap * 2 + (size_t)n + 64;
		t->buf = realloc(t->buf, t->cap);
		if (!t->buf)
			abort();
	}
	t->len += (size_t)n;
}

static void dump_node(struct text *t, struct cYAML *n, int indent);

static void dump_scalar(struct text *t, struct cYAML *n)
{
	switch (n->cy_type) {
	case CYAML_TYPE_FALSE:
		text_add(t, "false\n");
		break;
	case CYAML_TYPE_TRUE:
		text_add(t, "true\n");
		break;
	case CYAML_TYPE_NULL:
		text_add(t, "null\n");
		break;
	case CYAML_TYPE_NUMBER:
		if (n->cy_valuedouble == (double)n->cy_valueint)
			text_add(t, "%lld\n", (long long)n->cy_valueint);
		else
			text_add(t, "%g\n", n->cy_valuedouble);
		break;
	case CYAML_TYPE_STRING:
		if (n->cy_valuestring[0] == '"')
			text_add(t, "%s\n", n->cy_valuestring);
		else
			text_add(t, "'%s'\n", n->cy_valuestring);
		break;
	default:
		break;
	}
}

static int is_container(struct cYAML *n)
{
	return n->cy_type == CYAML_TYPE_OBJECT || n->cy_type == CYAML_TYPE_ARRAY;
}

/* The members of an object (or the named members of one sequence item). */
static void dump_members(struct text *t, struct cYAML *first, struct cYAML *stop, int indent,
			 int first_prefixed)
{
	struct cYAML *c;

	for (c = first; c && c != stop; c = c->cy_next) {
		int pad = (c == first && first_prefixed) ? 0 : indent;

		text_add(t, "%*s%s:", pad, "", c->cy_string ? c->cy_string : "~");
		if (is_container(c)) {
			if (!c->cy_child) {
				text_add(t, c->cy_type == CYAML_TYPE_ARRAY ? " []\n" : " {}\n");
			} else {
				text_add(t, "\n");
				dump_node(t, c, indent + 4);
			}
		} else {
			text_add(t, " ");
			dump_scalar(t, c);
		}
	}
}

static int key_in(struct cYAML *from, struct cYAML *stop, const char *key)
{
	for (; from && from != stop; from = from->cy_next)
		if (from->cy_string && key && strcmp(from->cy_string, key) == 0)
			return 1;
	return 0;
}

static void dump_node(struct text *t, struct cYAML *n, int indent)
{
	struct cYAML *c;

	if (n->cy_type == CYAML_TYPE_OBJECT) {
		dump_members(t, n->cy_child, NULL, indent, 0);
		return;
	}
	if (n->cy_type != CYAML_TYPE_ARRAY) {
		text_add(t, "%*s", indent, "");
		dump_scalar(t, n);
		return;
	}
	/* A sequence: an unnamed child is one item; a run of named children is one item,
	 * a new one starting when a key repeats (how liblnetconfig builds "net"). */
	c = n->cy_child;
	while (c) {
		if (!c->cy_string) {
			text_add(t, "%*s- ", indent, "");
			if (c->cy_type == CYAML_TYPE_OBJECT && c->cy_child) {
				dump_members(t, c->cy_child, NULL, indent + 2, 1);
			} else if (is_container(c)) {
				text_add(t, c->cy_type == CYAML_TYPE_ARRAY ? "[]\n" : "{}\n");
			} else {
				dump_scalar(t, c);
			}
			c = c->cy_next;
		} else {
			struct cYAML *end = c->cy_next;

			while (end && end->cy_string && !key_in(c, end, end->cy_string))
				end = end->cy_next;
			text_add(t, "%*s- ", indent, "");
			dump_members(t, c, end, indent + 2, 1);
			c = end;
		}
	}
}

EXPORT void cYAML_dump(struct cYAML *node, char **buf)
{
	struct text t = { NULL, 0, 0 };

	t.cap = 256;
	t.buf = malloc(t.cap);
	if (!t.buf)
		abort();
	t.buf[0] = 0;
	if (node)
		dump_node(&t, node, 0);
	*buf = t.buf;
}

/* ---- the error tree, filled on every call ------------------------------------------ */

static int finish(struct rec *r, const char *cmd, const char *entity, int seq_no,
		  struct cYAML **err_rc)
{
	struct cYAML *root, *cmd_seq, *ent;
	int rc = fail_rc;
	char descr[300];
	const char *fail_env = getenv("LNETCONFIG_DOUBLE_FAIL");

	/* LNETCONFIG_DOUBLE_FAIL="RC:DESCR" fails every call of a process that cannot be
	 * reached with lnetconfig_double_fail_next() (a program the test runs). */
	if (!rc && fail_env) {
		char *end;

		rc = (int)strtol(fail_env, &end, 10);
		if (*end == ':')
			snprintf(fail_descr, sizeof(fail_descr), "%s", end + 1);
		else
			rc = 0;
	}
	rec_end(r);
	if (rc)
		snprintf(descr, sizeof(descr), "\"%s\"", fail_descr);
	else
		snprintf(descr, sizeof(descr), "\"success\"");
	fail_rc = 0;
	fail_descr[0] = 0;

	if (!err_rc)
		return rc;
	root = *err_rc ? *err_rc : obj(NULL, NULL);
	cmd_seq = seq(root, cmd);
	ent = obj(item(cmd_seq), entity);
	if (seq_no != -1)
		num(ent, "seq_no", seq_no);
	num(ent, "errno", rc);
	str(ent, "descr", descr);
	*err_rc = root;
	return rc;
}

/* The root of a show result, with the arguments echoed under "received". */
static struct cYAML *show_root(struct cYAML **show_rc, struct cYAML **received)
{
	struct cYAML *root = *show_rc ? *show_rc : obj(NULL, NULL);

	*show_rc = root;
	*received = obj(root, "received");
	return root;
}

/* ---- argument recording helpers ---------------------------------------------------- */

static void rec_cpts(struct rec *r, const char *key, struct cfs_expr_list *el)
{
	struct list_head *p;
	int first = 1;

	if (!el) {
		rec_str(r, key, "(null)");
		return;
	}
	rec_add(r, "\t%s=", key);
	for (p = el->el_exprs.next; p != &el->el_exprs; p = p->next) {
		struct cfs_range_expr *re = (struct cfs_range_expr *)p;

		rec_add(r, "%s%u-%u/%u", first ? "" : ",", re->re_lo, re->re_hi, re->re_stride);
		first = 0;
	}
}

/* Records the interfaces and frees them, as liblnetconfig does with what it is given. */
static void rec_and_free_intfs(struct rec *r, struct lnet_dlc_network_descr *nw)
{
	struct list_head *p, *next;
	int first = 1;

	if (!nw) {
		rec_str(r, "nw_descr", "(null)");
		return;
	}
	rec_add(r, "\tnw_id=0x%x", nw->nw_id);
	rec_add(r, "\tintfs=");
	for (p = nw->nw_intflist.next; p != &nw->nw_intflist; p = next) {
		struct lnet_dlc_intf_descr *d = (struct lnet_dlc_intf_descr *)p;

		next = p->next;
		rec_add(r, "%s%.*s", first ? "" : ",", (int)sizeof(d->intf_name), d->intf_name);
		if (d->cpt_expr)
			rec_add(r, "[cpt]");
		first = 0;
		/* list_del + free, as free_intf_descr() */
		p->prev->next = p->next;
		p->next->prev = p->prev;
		free(d);
		freed_intf_descrs++;
	}
}

static void rec_tunables(struct rec *r, struct lnet_ioctl_config_lnd_tunables *t)
{
	rec_int(r, "sizeof_tunables", (long long)sizeof(*t));
	rec_int(r, "sizeof_intf_descr", (long long)sizeof(struct lnet_dlc_intf_descr));
	if (!t) {
		rec_str(r, "tunables", "(null)");
		return;
	}
	rec_int(r, "peer_timeout", t->lt_cmn.lct_peer_timeout);
	rec_int(r, "peer_credits", t->lt_cmn.lct_peer_tx_credits);
	rec_int(r, "peer_buffer_credits", t->lt_cmn.lct_peer_rtr_credits);
	rec_int(r, "credits", t->lt_cmn.lct_max_tx_credits);
	rec_int(r, "sock_conns_per_peer", t->lt_tun.lnd_tun_u.lnd_sock.lnd_conns_per_peer);
	rec_int(r, "o2ib_conns_per_peer", t->lt_tun.lnd_tun_u.lnd_o2ib.lnd_conns_per_peer);
	rec_int(r, "o2ib_map_on_demand", t->lt_tun.lnd_tun_u.lnd_o2ib.lnd_map_on_demand);
	rec_int(r, "o2ib_concurrent_sends", t->lt_tun.lnd_tun_u.lnd_o2ib.lnd_concurrent_sends);
	rec_int(r, "o2ib_peercredits_hiw", t->lt_tun.lnd_tun_u.lnd_o2ib.lnd_peercredits_hiw);
	rec_int(r, "o2ib_ntx", t->lt_tun.lnd_tun_u.lnd_o2ib.lnd_ntx);
	rec_int(r, "kfi_auth_key", t->lt_tun.lnd_tun_u.lnd_kfi.lnd_auth_key);
#if LUTF_LNETCONFIG_ABI >= 216
	rec_int(r, "sock_tos", t->lt_tun.lnd_tun_u.lnd_sock.lnd_tos);
	rec_int(r, "o2ib_tos", t->lt_tun.lnd_tun_u.lnd_o2ib.lnd_tos);
	rec_add(r, "\tkfi_traffic_class=%.*s",
		(int)sizeof(t->lt_tun.lnd_tun_u.lnd_kfi.lnd_traffic_class_str),
		t->lt_tun.lnd_tun_u.lnd_kfi.lnd_traffic_class_str);
#endif
}

/* ---- the ABI-specific calls -------------------------------------------------------- */

#if LUTF_LNETCONFIG_ABI == 215
EXPORT int lustre_lnet_config_ni(struct lnet_dlc_network_descr *nw_descr,
				 struct cfs_expr_list *global_cpts, char *ip2net,
				 struct lnet_ioctl_config_lnd_tunables *tunables, long cpp,
				 int seq_no, struct cYAML **err_rc)
#else
EXPORT int lustre_lnet_config_ni(struct lnet_dlc_network_descr *nw_descr,
				 struct cfs_expr_list *global_cpts, char *ip2net,
				 struct lnet_ioctl_config_lnd_tunables *tunables, int seq_no,
				 struct cYAML **err_rc)
#endif
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_config_ni");
	rec_and_free_intfs(&r, nw_descr);
	rec_cpts(&r, "global_cpts", global_cpts);
	rec_str(&r, "ip2net", ip2net);
	rec_tunables(&r, tunables);
#if LUTF_LNETCONFIG_ABI == 215
	rec_int(&r, "cpp", cpp);
#endif
	rec_int(&r, "seq_no", seq_no);
	return finish(&r, "add", "net", seq_no, err_rc);
}

#if LUTF_LNETCONFIG_ABI <= 216
EXPORT int lustre_lnet_config_route(char *nw, char *gw, int hops, int prio, int sen,
				    int seq_no, struct cYAML **err_rc)
#else
EXPORT int lustre_lnet_config_route(char *nw, char *gw, int hops, int prio, int seq_no,
				    struct cYAML **err_rc)
#endif
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_config_route");
	rec_str(&r, "nw", nw);
	rec_str(&r, "gw", gw);
	rec_int(&r, "hops", hops);
	rec_int(&r, "prio", prio);
#if LUTF_LNETCONFIG_ABI <= 216
	rec_int(&r, "sen", sen);
#endif
	rec_int(&r, "seq_no", seq_no);
	return finish(&r, "add", "route", seq_no, err_rc);
}

#if LUTF_LNETCONFIG_ABI <= 216
EXPORT int lustre_lnet_enable_routing(int enable, int seq_no, struct cYAML **err_rc)
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_enable_routing");
#else
EXPORT int lustre_lnet_config_routing(int enable, int seq_no, struct cYAML **err_rc)
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_config_routing");
#endif
	rec_int(&r, "enable", enable);
	rec_int(&r, "seq_no", seq_no);
	return finish(&r, "add", "routing", seq_no, err_rc);
}

/* lustre_yaml_*: 2.15 gets a file name (its content is recorded), 2.16+ a buffer. */
static void rec_yaml(struct rec *r, const char *call, char *f
#if LUTF_LNETCONFIG_ABI >= 216
		     , size_t len
#endif
		     )
{
	char content[2048];
	size_t n = 0, i;

	rec_begin(r, call);
#if LUTF_LNETCONFIG_ABI == 215
	{
		FILE *in = f ? fopen(f, "r") : NULL;

		rec_str(r, "path", f);
		if (in) {
			n = fread(content, 1, sizeof(content) - 1, in);
			fclose(in);
		}
	}
#else
	rec_int(r, "len", (long long)len);
	if (f) {
		n = len < sizeof(content) - 1 ? len : sizeof(content) - 1;
		memcpy(content, f, n);
	}
#endif
	content[n] = 0;
	/* one line per record: newlines become '|' */
	for (i = 0; i < n; i++)
		if (content[i] == '\n' || content[i] == '\t')
			content[i] = '|';
	rec_str(r, "yaml", content);
}

#if LUTF_LNETCONFIG_ABI == 215
#define YAML_ARGS char *f
#define YAML_REC(r, call) rec_yaml(r, call, f)
#else
#define YAML_ARGS char *f, size_t len
#define YAML_REC(r, call) rec_yaml(r, call, f, len)
#endif

EXPORT int lustre_yaml_config(YAML_ARGS, struct cYAML **err_rc)
{
	struct rec r;

	YAML_REC(&r, "lustre_yaml_config");
	return finish(&r, "add", "yaml", -1, err_rc);
}

EXPORT int lustre_yaml_del(YAML_ARGS, struct cYAML **err_rc)
{
	struct rec r;

	YAML_REC(&r, "lustre_yaml_del");
	return finish(&r, "del", "yaml", -1, err_rc);
}

EXPORT int lustre_yaml_show(YAML_ARGS, struct cYAML **show_rc, struct cYAML **err_rc)
{
	struct rec r;
	struct cYAML *received;

	YAML_REC(&r, "lustre_yaml_show");
	show_root(show_rc, &received);
	str(received, "call", "lustre_yaml_show");
	return finish(&r, "show", "yaml", -1, err_rc);
}

EXPORT int lustre_yaml_exec(YAML_ARGS, struct cYAML **show_rc, struct cYAML **err_rc)
{
	struct rec r;
	struct cYAML *received;

	YAML_REC(&r, "lustre_yaml_exec");
	show_root(show_rc, &received);
	str(received, "call", "lustre_yaml_exec");
	return finish(&r, "exec", "yaml", -1, err_rc);
}

/* ---- the calls common to every ABI ------------------------------------------------- */

EXPORT int lustre_lnet_config_lib_init(void)
{
	struct rec r;

	lib_initialised = 1;
	rec_begin(&r, "lustre_lnet_config_lib_init");
	rec_end(&r);
	return 0;
}

EXPORT void lustre_lnet_config_lib_uninit(void)
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_config_lib_uninit");
	rec_end(&r);
	lib_initialised = 0;
}

EXPORT int lustre_lnet_config_ni_system(_Bool up, _Bool load_ni_from_mod, int seq_no,
					struct cYAML **err_rc)
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_config_ni_system");
	rec_int(&r, "up", up);
	rec_int(&r, "load_ni_from_mod", load_ni_from_mod);
	rec_int(&r, "seq_no", seq_no);
	return finish(&r, up ? "configure" : "unconfigure", "lnet", seq_no, err_rc);
}

EXPORT int lustre_lnet_del_ni(struct lnet_dlc_network_descr *nw_descr, int seq_no,
			      struct cYAML **err_rc)
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_del_ni");
	rec_and_free_intfs(&r, nw_descr);
	rec_int(&r, "seq_no", seq_no);
	return finish(&r, "del", "net", seq_no, err_rc);
}

EXPORT int lustre_lnet_show_net(char *nw, int detail, int seq_no, struct cYAML **show_rc,
				struct cYAML **err_rc, _Bool backup)
{
	struct rec r;
	struct cYAML *root, *received, *nets, *nis, *ni, *intfs, *odd;

	rec_begin(&r, "lustre_lnet_show_net");
	rec_str(&r, "nw", nw);
	rec_int(&r, "detail", detail);
	rec_int(&r, "seq_no", seq_no);
	rec_int(&r, "backup", backup);
	root = show_root(show_rc, &received);
	str_or_null(received, "nw", nw);
	num(received, "detail", detail);
	num(received, "seq_no", seq_no);
	flag(received, "backup", backup);

	/* As liblnetconfig builds it: the "net" sequence holds named members directly, a new
	 * item starting at each "net type". */
	nets = seq(root, "net");
	str(nets, "net type", "lo");
	nis = seq(nets, "local NI(s)");
	ni = item(nis);
	str(ni, "nid", "0@lo");
	str(ni, "status", "up");
	str(nets, "net type", nw ? nw : "tcp");
	nis = seq(nets, "local NI(s)");
	ni = item(nis);
	str(ni, "nid", "10.0.0.1@tcp");
	str(ni, "status", "up");
	intfs = obj(ni, "interfaces");
	str(intfs, "0", "eth0");
	str(ni, "CPT", "\"[0,1]\"");

	/* one node of every cYAML type, for the conversion tests */
	odd = obj(root, "types");
	flag(odd, "true", 1);
	flag(odd, "false", 0);
	null_node(odd, "null");
	num(odd, "negative", -17);
	num(odd, "half", 0.5);
	num(odd, "big", 4294967296.0);
	str(odd, "quoted", "\"with quotes\"");
	str(odd, "plain", "no quotes: here");
	seq(odd, "empty seq");
	obj(odd, "empty map");
	return finish(&r, "show", "net", seq_no, err_rc);
}

EXPORT int lustre_lnet_del_route(char *nw, char *gw, int seq_no, struct cYAML **err_rc)
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_del_route");
	rec_str(&r, "nw", nw);
	rec_str(&r, "gw", gw);
	rec_int(&r, "seq_no", seq_no);
	return finish(&r, "del", "route", seq_no, err_rc);
}

EXPORT int lustre_lnet_show_route(char *nw, char *gw, int hops, int prio, int detail,
				  int seq_no, struct cYAML **show_rc, struct cYAML **err_rc,
				  _Bool backup)
{
	struct rec r;
	struct cYAML *root, *received, *routes, *rt;

	rec_begin(&r, "lustre_lnet_show_route");
	rec_str(&r, "nw", nw);
	rec_str(&r, "gw", gw);
	rec_int(&r, "hops", hops);
	rec_int(&r, "prio", prio);
	rec_int(&r, "detail", detail);
	rec_int(&r, "seq_no", seq_no);
	rec_int(&r, "backup", backup);
	root = show_root(show_rc, &received);
	str_or_null(received, "nw", nw);
	str_or_null(received, "gw", gw);
	num(received, "hops", hops);
	num(received, "prio", prio);
	num(received, "detail", detail);
	routes = seq(root, "route");
	rt = item(routes);
	str(rt, "net", "tcp2");
	str(rt, "gateway", "10.0.0.254@tcp");
	num(rt, "hop", -1);
	num(rt, "priority", 0);
	str(rt, "state", "up");
	return finish(&r, "show", "route", seq_no, err_rc);
}

EXPORT int lustre_lnet_config_buffers(int tiny, int small, int large, int seq_no,
				      struct cYAML **err_rc)
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_config_buffers");
	rec_int(&r, "tiny", tiny);
	rec_int(&r, "small", small);
	rec_int(&r, "large", large);
	rec_int(&r, "seq_no", seq_no);
	return finish(&r, "add", "buf", seq_no, err_rc);
}

EXPORT int lustre_lnet_show_routing(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc,
				    _Bool backup)
{
	struct rec r;
	struct cYAML *root, *received, *routing, *buffers;

	rec_begin(&r, "lustre_lnet_show_routing");
	rec_int(&r, "seq_no", seq_no);
	rec_int(&r, "backup", backup);
	root = show_root(show_rc, &received);
	flag(received, "backup", backup);
	buffers = obj(root, "buffers");
	num(buffers, "tiny", 512);
	num(buffers, "small", 4096);
	num(buffers, "large", 256);
	routing = obj(root, "routing");
	num(routing, "enable", 1);
	return finish(&r, "show", "routing", seq_no, err_rc);
}

EXPORT int lustre_lnet_show_stats(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc)
{
	struct rec r;
	struct cYAML *root, *received, *stats;

	rec_begin(&r, "lustre_lnet_show_stats");
	rec_int(&r, "seq_no", seq_no);
	root = show_root(show_rc, &received);
	num(received, "seq_no", seq_no);
	stats = obj(root, "statistics");
	num(stats, "msgs_alloc", 0);
	num(stats, "send_count", 3303);
	num(stats, "send_length", 148353000);
	return finish(&r, "show", "statistics", seq_no, err_rc);
}

EXPORT int lustre_lnet_reset_stats(int seq_no, struct cYAML **err_rc)
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_reset_stats");
	rec_int(&r, "seq_no", seq_no);
	return finish(&r, "reset", "statistics", seq_no, err_rc);
}

EXPORT int lustre_lnet_modify_peer(char *prim_nid, char *nids, _Bool is_mr, int cmd,
				   int force_lock, int seq_no, struct cYAML **err_rc)
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_modify_peer");
	rec_str(&r, "prim_nid", prim_nid);
	rec_str(&r, "nids", nids);
	rec_int(&r, "is_mr", is_mr);
	rec_int(&r, "cmd", cmd);
	rec_int(&r, "force_lock", force_lock);
	rec_int(&r, "seq_no", seq_no);
	return finish(&r, cmd == 3 ? "add" : "del", "peer_ni", seq_no, err_rc);
}

EXPORT int lustre_lnet_show_peer(char *knid, int detail, int seq_no, struct cYAML **show_rc,
				 struct cYAML **err_rc, _Bool backup)
{
	struct rec r;
	struct cYAML *root, *received, *peers, *peer, *pnis, *pni;

	rec_begin(&r, "lustre_lnet_show_peer");
	rec_str(&r, "knid", knid);
	rec_int(&r, "detail", detail);
	rec_int(&r, "seq_no", seq_no);
	rec_int(&r, "backup", backup);
	root = show_root(show_rc, &received);
	str_or_null(received, "knid", knid);
	num(received, "detail", detail);
	peers = seq(root, "peer");
	peer = item(peers);
	str(peer, "primary nid", knid ? knid : "10.0.0.2@tcp");
	str(peer, "Multi-Rail", "True");
	pnis = seq(peer, "peer ni");
	pni = item(pnis);
	str(pni, "nid", knid ? knid : "10.0.0.2@tcp");
	str(pni, "state", "NA");
	return finish(&r, "show", "peer", seq_no, err_rc);
}

EXPORT int lustre_lnet_list_peer(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc)
{
	struct rec r;
	struct cYAML *root, *received, *list;

	rec_begin(&r, "lustre_lnet_list_peer");
	rec_int(&r, "seq_no", seq_no);
	root = show_root(show_rc, &received);
	num(received, "seq_no", seq_no);
	list = seq(root, "peer list");
	str(item(list), "nid", "10.0.0.2@tcp");
	str(item(list), "nid", "10.0.0.3@tcp");
	return finish(&r, "show", "peer", seq_no, err_rc);
}

EXPORT int lustre_lnet_ping_nid(char *pnid, char *src_nidstr, int timeout, int seq_no,
				struct cYAML **show_rc, struct cYAML **err_rc)
{
	struct rec r;
	struct cYAML *root, *received, *ping, *it, *pnis;

	rec_begin(&r, "lustre_lnet_ping_nid");
	rec_str(&r, "pnid", pnid);
	rec_str(&r, "src_nidstr", src_nidstr);
	rec_int(&r, "timeout", timeout);
	rec_int(&r, "seq_no", seq_no);
	root = show_root(show_rc, &received);
	str_or_null(received, "pnid", pnid);
	str_or_null(received, "src", src_nidstr);
	num(received, "timeout", timeout);
	ping = seq(root, "ping");
	it = item(ping);
	str(it, "primary nid", pnid);
	str(it, "Multi-Rail", "False");
	pnis = seq(it, "peer ni");
	str(item(pnis), "nid", pnid);
	return finish(&r, "ping", "ping", seq_no, err_rc);
}

EXPORT int lustre_lnet_discover_nid(char *pnid, int force, int seq_no, struct cYAML **show_rc,
				    struct cYAML **err_rc)
{
	struct rec r;
	struct cYAML *root, *received, *disc;

	rec_begin(&r, "lustre_lnet_discover_nid");
	rec_str(&r, "pnid", pnid);
	rec_int(&r, "force", force);
	rec_int(&r, "seq_no", seq_no);
	root = show_root(show_rc, &received);
	str_or_null(received, "pnid", pnid);
	num(received, "force", force);
	disc = seq(root, "discover");
	str(item(disc), "primary nid", pnid);
	return finish(&r, "discover", "discover", seq_no, err_rc);
}

/* The global settings: one setter and one getter each, all of the same shape. */
#define GLOBAL(setter, getter, key, dflt)                                                    \
	static int value_##key = dflt;                                                       \
	EXPORT int setter(int value, int seq_no, struct cYAML **err_rc)                      \
	{                                                                                    \
		struct rec r;                                                                \
		rec_begin(&r, #setter);                                                      \
		rec_int(&r, "value", value);                                                 \
		rec_int(&r, "seq_no", seq_no);                                               \
		if (!fail_rc)                                                                \
			value_##key = value;                                                 \
		return finish(&r, "add", #key, seq_no, err_rc);                              \
	}                                                                                    \
	EXPORT int getter(int seq_no, struct cYAML **show_rc, struct cYAML **err_rc)        \
	{                                                                                    \
		struct rec r;                                                                \
		struct cYAML *received, *global;                                             \
		rec_begin(&r, #getter);                                                      \
		rec_int(&r, "seq_no", seq_no);                                               \
		show_root(show_rc, &received);                                               \
		global = cYAML_get_or_add(*show_rc, "global");                               \
		num(global, #key, value_##key);                                              \
		return finish(&r, "show", "global", seq_no, err_rc);                         \
	}

/* Several getters add to the same "global" object when given the same show tree. */
static struct cYAML *cYAML_get_or_add(struct cYAML *root, const char *key)
{
	struct cYAML *c;

	for (c = root->cy_child; c; c = c->cy_next)
		if (c->cy_string && strcmp(c->cy_string, key) == 0)
			return c;
	return obj(root, key);
}

GLOBAL(lustre_lnet_config_numa_range, lustre_lnet_show_numa_range, numa_range, 0)
GLOBAL(lustre_lnet_config_max_intf, lustre_lnet_show_max_intf, max_interfaces, 200)
GLOBAL(lustre_lnet_config_discovery, lustre_lnet_show_discovery, discovery, 1)
GLOBAL(lustre_lnet_config_drop_asym_route, lustre_lnet_show_drop_asym_route, drop_asym_route, 0)
GLOBAL(lustre_lnet_config_retry_count, lustre_lnet_show_retry_count, retry_count, 2)
GLOBAL(lustre_lnet_config_transaction_to, lustre_lnet_show_transaction_to, transaction_timeout,
       150)
GLOBAL(lustre_lnet_config_hsensitivity, lustre_lnet_show_hsensitivity, health_sensitivity, 100)
GLOBAL(lustre_lnet_config_recov_intrv, lustre_lnet_show_recov_intrv, recovery_interval, 1)
GLOBAL(lustre_lnet_config_rtr_sensitivity, lustre_lnet_show_rtr_sensitivity,
       router_sensitivity, 100)
GLOBAL(lustre_lnet_config_response_tracking, lustre_lnet_show_response_tracking,
       response_tracking, 3)
GLOBAL(lustre_lnet_config_recovery_limit, lustre_lnet_show_recovery_limit, recovery_limit, 0)
GLOBAL(lustre_lnet_config_max_recovery_ping_interval,
       lustre_lnet_show_max_recovery_ping_interval, max_recovery_ping_interval, 900)

EXPORT int lustre_lnet_show_lnd_timeout(int seq_no, struct cYAML **show_rc,
					struct cYAML **err_rc)
{
	struct rec r;
	struct cYAML *received;

	rec_begin(&r, "lustre_lnet_show_lnd_timeout");
	rec_int(&r, "seq_no", seq_no);
	show_root(show_rc, &received);
	num(cYAML_get_or_add(*show_rc, "global"), "lnd_timeout", 49);
	return finish(&r, "show", "global", seq_no, err_rc);
}

EXPORT int lustre_lnet_add_udsp(char *src, char *dst, char *rte, char *type,
				union lnet_udsp_action *action, int idx, int seq_no,
				struct cYAML **err_rc)
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_add_udsp");
	rec_str(&r, "src", src);
	rec_str(&r, "dst", dst);
	rec_str(&r, "rte", rte);
	rec_str(&r, "type", type);
	if (action)
		rec_int(&r, "priority", action->udsp_priority);
	else
		rec_str(&r, "priority", "(null)");
	rec_int(&r, "idx", idx);
	rec_int(&r, "seq_no", seq_no);
	return finish(&r, "add", "udsp", seq_no, err_rc);
}

EXPORT int lustre_lnet_del_udsp(unsigned int idx, int seq_no, struct cYAML **err_rc)
{
	struct rec r;

	rec_begin(&r, "lustre_lnet_del_udsp");
	rec_int(&r, "idx", idx);
	rec_int(&r, "seq_no", seq_no);
	return finish(&r, "del", "udsp", seq_no, err_rc);
}

EXPORT int lustre_lnet_show_udsp(int idx, int seq_no, struct cYAML **show_rc,
				 struct cYAML **err_rc)
{
	struct rec r;
	struct cYAML *root, *received, *rules, *rule;

	rec_begin(&r, "lustre_lnet_show_udsp");
	rec_int(&r, "idx", idx);
	rec_int(&r, "seq_no", seq_no);
	root = show_root(show_rc, &received);
	num(received, "idx", idx);
	rules = seq(root, "udsp");
	rule = item(rules);
	num(rule, "idx", idx < 0 ? 0 : idx);
	str(rule, "src", "tcp");
	str(rule, "action", "priority 1");
	return finish(&r, "show", "udsp", seq_no, err_rc);
}
