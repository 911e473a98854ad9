/*
 * Declarations written for lutf's lnetconfig-sys from the documented cYAML interface of
 * liblnetconfig (lnet/utils/lnetconfig/cyaml.h): the tree every call returns its result and
 * its error in. The layout has not changed between Lustre 2.15 and 2.17.
 */
#ifndef LUTF_CYAML_H
#define LUTF_CYAML_H

enum cYAML_object_type {
	CYAML_TYPE_FALSE = 0,
	CYAML_TYPE_TRUE,
	CYAML_TYPE_NULL,
	CYAML_TYPE_NUMBER,
	CYAML_TYPE_STRING,
	CYAML_TYPE_ARRAY,
	CYAML_TYPE_OBJECT
};

/*
 * One node. Siblings are chained by cy_next/cy_prev, an array's or object's items hang from
 * cy_child, an object member has its key in cy_string. A number is kept both as an integer
 * and as a double.
 */
struct cYAML {
	struct cYAML *cy_next, *cy_prev;
	struct cYAML *cy_child;
	enum cYAML_object_type cy_type;
	char *cy_valuestring;
	__INT64_TYPE__ cy_valueint;
	double cy_valuedouble;
	char *cy_string;
	void *cy_user_data;
};

/* Prints the tree as YAML text into a buffer that the caller frees with free(). */
void cYAML_dump(struct cYAML *node, char **buf);

/* Frees a tree returned by any call. NULL is accepted. */
void cYAML_free_tree(struct cYAML *node);

#endif
