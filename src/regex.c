/* PCRE2 wrapper: compile at load time, match without allocating. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <proxyd/cfg.h>
#include <proxyd/regex.h>

struct my_regex {
	pcre2_code *code;
	struct my_regex *next;    /* every compiled regex, to free them at exit */
	int jit;
};

static struct my_regex *all_regex;
/* Match data sized for the largest pattern, one per thread, reused. */
static __thread pcre2_match_data *md;

static pcre2_match_data *match_data(void)
{
	if (!md)
		md = pcre2_match_data_create(REGEX_MAX_GROUPS, NULL);
	return md;
}

struct my_regex *regex_compile(const char *pattern, int icase, char *err, size_t errlen)
{
	int errcode;
	PCRE2_SIZE erroff;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	                                 icase ? PCRE2_CASELESS : 0, &errcode, &erroff, NULL);
	if (!code) {
		char msg[256];
		pcre2_get_error_message(errcode, (PCRE2_UCHAR *)msg, sizeof(msg));
		snprintf(err, errlen, "invalid regex '%s' at position %zu: %s", pattern, (size_t)erroff, msg);
		return NULL;
	}
	struct my_regex *re = cfg_alloc(sizeof(*re));
	re->code = code;
	re->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
	re->next = all_regex;
	all_regex = re;
	return re;
}

int regex_exec(const struct my_regex *re, const char *subject, size_t len)
{
	pcre2_match_data *m = match_data();
	int rc;

	if (!m)
		return 0;
	if (re->jit)
		rc = pcre2_jit_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, m, NULL);
	else
		rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, m, NULL);
	return rc >= 0;
}

/* Matches from offset <start> of the whole subject, so that "^" and
 * lookbehinds still see what precedes it. Offsets in ovec are from the
 * beginning of <subject>. */
static int exec_groups_at(const struct my_regex *re, const char *subject, size_t len, size_t start,
                          long *ovec, int max_groups)
{
	pcre2_match_data *m = match_data();
	int rc;

	if (!m)
		return 0;
	if (re->jit)
		rc = pcre2_jit_match(re->code, (PCRE2_SPTR)subject, len, start, 0, m, NULL);
	else
		rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, start, 0, m, NULL);
	if (rc < 0)
		return 0;
	if (rc == 0)
		rc = REGEX_MAX_GROUPS;   /* ovector too small: all of it is set */
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(m);
	int n = rc < max_groups ? rc : max_groups;
	for (int i = 0; i < max_groups; i++) {
		if (i < n && ov[2 * i] != PCRE2_UNSET) {
			ovec[2 * i] = (long)ov[2 * i];
			ovec[2 * i + 1] = (long)ov[2 * i + 1];
		} else {
			ovec[2 * i] = ovec[2 * i + 1] = -1;
		}
	}
	return n;
}

int regex_exec_groups(const struct my_regex *re, const char *subject, size_t len,
                      long *ovec, int max_groups)
{
	return exec_groups_at(re, subject, len, 0, ovec, max_groups);
}

long regex_subst(const struct my_regex *re, const char *subject, size_t len, const char *subst,
                 int global, char *dst, size_t dlen)
{
	long ovec[2 * REGEX_MAX_GROUPS];
	size_t out = 0, pos = 0;

	while (pos <= len) {
		/* the whole subject with a start offset: "^a" must not match
		 * again at each position a global substitution resumes from */
		int n = exec_groups_at(re, subject, len, pos, ovec, REGEX_MAX_GROUPS);
		if (!n)
			break;
		size_t mstart = (size_t)ovec[0], mend = (size_t)ovec[1];
		/* text before the match */
		if (out + (mstart - pos) > dlen)
			return -1;
		memcpy(dst + out, subject + pos, mstart - pos);
		out += mstart - pos;
		for (const char *s = subst; *s; s++) {
			if (*s == '\\' && s[1] >= '0' && s[1] <= '9') {
				int g = s[1] - '0';
				s++;
				if (g < n && ovec[2 * g] >= 0) {
					size_t gl = (size_t)(ovec[2 * g + 1] - ovec[2 * g]);
					if (out + gl > dlen)
						return -1;
					memcpy(dst + out, subject + ovec[2 * g], gl);
					out += gl;
				}
				continue;
			}
			if (out + 1 > dlen)
				return -1;
			dst[out++] = *s;
		}
		if (mend == mstart) {
			/* empty match: copy one character and move on */
			if (mend < len) {
				if (out + 1 > dlen)
					return -1;
				dst[out++] = subject[mend];
			}
			pos = mend + 1;
		} else {
			pos = mend;
		}
		if (!global)
			break;
	}
	if (pos < len) {
		if (out + (len - pos) > dlen)
			return -1;
		memcpy(dst + out, subject + pos, len - pos);
		out += len - pos;
	}
	return (long)out;
}

void regex_thread_deinit(void)
{
	if (md) {
		pcre2_match_data_free(md);
		md = NULL;
	}
}

void regex_free_all(void)
{
	for (struct my_regex *re = all_regex; re; re = re->next)
		pcre2_code_free(re->code);
	all_regex = NULL;
	if (md) {
		pcre2_match_data_free(md);
		md = NULL;
	}
}
