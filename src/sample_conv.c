/* Converters: "fetch,lower", "hdr(x),field(2,;)", "path,regsub(^/api,)"... */
#include <arpa/inet.h>
#include <stdlib.h>
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <proxyd/regex.h>
#include <proxyd/sample.h>

/* Makes <smp> a string sample in a scratch buffer it may modify. */
static int writable(struct sample *smp)
{
	return sample_make_rw(smp);
}

static int conv_lower(const struct arg *args, struct sample *smp, void *priv)
{
	if (!writable(smp))
		return 0;
	char *p = (char *)smp->data.str.ptr;
	for (size_t i = 0; i < smp->data.str.len; i++)
		p[i] = (char)tolower((unsigned char)p[i]);
	return 1;
}

static int conv_upper(const struct arg *args, struct sample *smp, void *priv)
{
	if (!writable(smp))
		return 0;
	char *p = (char *)smp->data.str.ptr;
	for (size_t i = 0; i < smp->data.str.len; i++)
		p[i] = (char)toupper((unsigned char)p[i]);
	return 1;
}

/* int and str: explicit casts, the input was converted already. */
static int conv_identity(const struct arg *args, struct sample *smp, void *priv)
{
	return 1;
}

static int conv_length(const struct arg *args, struct sample *smp, void *priv)
{
	long long l = (long long)smp->data.str.len;
	smp->type = SMP_T_SINT;
	smp->data.sint = l;
	return 1;
}

static int conv_bool(const struct arg *args, struct sample *smp, void *priv)
{
	smp->data.sint = smp->data.sint != 0;
	smp->type = SMP_T_BOOL;
	return 1;
}

static int conv_not(const struct arg *args, struct sample *smp, void *priv)
{
	smp->data.sint = !smp->data.sint;
	smp->type = SMP_T_BOOL;
	return 1;
}

/* Arithmetic with a constant: add(n), sub(n), mul(n), div(n), mod(n).
 * As HAProxy: results saturate at the limits of a 64-bit integer instead
 * of wrapping, a division by zero gives the largest integer and a modulo
 * by zero gives 0 (LLONG_MIN / -1 would trap the CPU otherwise). */
static int conv_arith(const struct arg *args, struct sample *smp, void *priv)
{
	long long v = args[0].data.sint, a = smp->data.sint, r = 0;
	long op = (long)priv;

	switch (op) {
	case '+':
		if (__builtin_add_overflow(a, v, &r))
			r = v > 0 ? LLONG_MAX : LLONG_MIN;
		break;
	case '-':
		if (__builtin_sub_overflow(a, v, &r))
			r = v < 0 ? LLONG_MAX : LLONG_MIN;
		break;
	case '*':
		if (__builtin_mul_overflow(a, v, &r))
			r = (a < 0) != (v < 0) ? LLONG_MIN : LLONG_MAX;
		break;
	case '/':
		if (!v || (a == LLONG_MIN && v == -1))
			r = LLONG_MAX;
		else
			r = a / v;
		break;
	case '%':
		if (!v || v == -1)
			r = 0;
		else
			r = a % v;
		break;
	}
	smp->data.sint = r;
	smp->type = SMP_T_SINT;
	return 1;
}

/* field(<index>,<delimiters>[,<count>]) and word(...): the <index>th
 * field (from 1; negative from the end) cut at any of the delimiter
 * characters; word() skips empty fields. <count> fields are kept. */
static int cut(const struct arg *args, struct sample *smp, int words)
{
	long long idx = args[0].data.sint;
	const char *delims = args[1].data.str.ptr;
	size_t dl = args[1].data.str.len;
	long long count = args[2].type == ARGT_SINT ? args[2].data.sint : 1;
	const char *s = smp->data.str.ptr;
	size_t len = smp->data.str.len;
	const char *fs[256], *fe[256];
	int nf = 0;

	if (idx == 0 || count < 0)
		return 0;
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && !memchr(delims, s[i], dl))
			continue;
		if (!(words && i == start)) {
			if (nf >= 256)
				return 0;
			fs[nf] = s + start;
			fe[nf] = s + i;
			nf++;
		}
		start = i + 1;
	}
	long long first = idx > 0 ? idx - 1 : nf + idx;
	if (first < 0 || first >= nf)
		goto empty;
	long long last = count ? first + count - 1 : nf - 1;
	if (idx < 0) {
		/* counting backwards: the index and the fields before it,
		 * all of them up to the first one with a count of 0 */
		last = first;
		first = count ? first - count + 1 : 0;
		if (first < 0)
			first = 0;
	}
	if (last >= nf)
		last = nf - 1;
	smp->data.str.ptr = fs[first];
	smp->data.str.len = (size_t)(fe[last] - fs[first]);
	return 1;
empty:
	smp->data.str.len = 0;
	return 1;
}

static int conv_field(const struct arg *args, struct sample *smp, void *priv)
{
	return cut(args, smp, 0);
}

static int conv_word(const struct arg *args, struct sample *smp, void *priv)
{
	return cut(args, smp, 1);
}

static int check_cut(struct arg *args, char *err, size_t errlen)
{
	if (args[0].data.sint == 0) {
		snprintf(err, errlen, "field index must not be 0 (fields count from 1, or from -1 at the end)");
		return -1;
	}
	if (!args[1].data.str.len) {
		snprintf(err, errlen, "empty delimiter list");
		return -1;
	}
	return 0;
}

/* regsub(<regex>,<subst>[,<flags>]): "g" replaces every match, "i" is
 * case-insensitive (the regex is compiled again with that flag). */
static int conv_regsub(const struct arg *args, struct sample *smp, void *priv)
{
	struct trash *t = smp_trash();
	int global = args[2].type == ARGT_STR && memchr(args[2].data.str.ptr, 'g', args[2].data.str.len);
	long n = regex_subst(args[0].data.reg, smp->data.str.ptr, smp->data.str.len, args[1].data.str.ptr,
	                     global, t->area, t->size);
	if (n < 0)
		return 0;
	smp->data.str.ptr = t->area;
	smp->data.str.len = (size_t)n;
	smp->flags &= ~SMP_F_CONST;
	return 1;
}

static int check_regsub(struct arg *args, char *err, size_t errlen)
{
	int icase = 0;

	if (args[2].type == ARGT_STR) {
		for (size_t i = 0; i < args[2].data.str.len; i++) {
			char c = args[2].data.str.ptr[i];
			if (c != 'g' && c != 'i') {
				snprintf(err, errlen, "regsub: unknown flag '%c' (expected 'g' and/or 'i')", c);
				return -1;
			}
			icase |= c == 'i';
		}
	}
	if (icase && args[0].unresolved) {
		/* compiled case-sensitive while the arguments were parsed */
		struct my_regex *re = regex_compile(args[0].unresolved, 1, err, errlen);
		if (!re)
			return -1;
		args[0].data.reg = re;
	}
	return 0;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int conv_base64(const struct arg *args, struct sample *smp, void *priv)
{
	struct trash *t = smp_trash();
	const unsigned char *in = (const unsigned char *)smp->data.str.ptr;
	size_t len = smp->data.str.len, o = 0;

	if ((len + 2) / 3 * 4 > t->size)
		return 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		t->area[o++] = b64chars[(v >> 18) & 63];
		t->area[o++] = b64chars[(v >> 12) & 63];
		t->area[o++] = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
		t->area[o++] = i + 2 < len ? b64chars[v & 63] : '=';
	}
	smp->data.str.ptr = t->area;
	smp->data.str.len = o;
	smp->flags &= ~SMP_F_CONST;
	return 1;
}

long base64_decode(const char *in, size_t len, char *dst, size_t dlen)
{
	unsigned v = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '=')
			break;
		const char *p = strchr(b64chars, c);
		if (!p || !c)
			return -1;
		v = (v << 6) | (unsigned)(p - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= dlen)
				return -1;
			dst[o++] = (char)((v >> bits) & 0xff);
		}
	}
	return (long)o;
}

static int conv_b64dec(const struct arg *args, struct sample *smp, void *priv)
{
	struct trash *t = smp_trash();
	long n = base64_decode(smp->data.str.ptr, smp->data.str.len, t->area, t->size);

	if (n < 0)
		return 0;
	smp->data.str.ptr = t->area;
	smp->data.str.len = (size_t)n;
	smp->type = SMP_T_BIN;
	smp->flags &= ~SMP_F_CONST;
	return 1;
}

static int conv_hex(const struct arg *args, struct sample *smp, void *priv)
{
	static const char digits[] = "0123456789ABCDEF";
	struct trash *t = smp_trash();
	const unsigned char *in = (const unsigned char *)smp->data.str.ptr;
	size_t len = smp->data.str.len;

	if (len * 2 > t->size)
		return 0;
	for (size_t i = 0; i < len; i++) {
		t->area[2 * i] = digits[in[i] >> 4];
		t->area[2 * i + 1] = digits[in[i] & 15];
	}
	smp->data.str.ptr = t->area;
	smp->data.str.len = len * 2;
	smp->type = SMP_T_STR;
	smp->flags &= ~SMP_F_CONST;
	return 1;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* url_dec: %XX sequences decoded ('+' kept, as HAProxy outside forms). */
static int conv_url_dec(const struct arg *args, struct sample *smp, void *priv)
{
	struct trash *t = smp_trash();
	const char *s = smp->data.str.ptr;
	size_t len = smp->data.str.len, o = 0;

	if (len > t->size)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (i + 2 >= len + 0 || hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
				return 0;
			t->area[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			t->area[o++] = s[i];
		}
	}
	smp->data.str.ptr = t->area;
	smp->data.str.len = o;
	smp->flags &= ~SMP_F_CONST;
	return 1;
}

/* ipmask(mask4[,mask6]): the masks are a prefix length or a dotted (IPv4)
 * / colon (IPv6) mask; kept as prefix lengths in the arguments. */
static int parse_mask(struct arg *a, int v6, char *err, size_t errlen)
{
	const char *m = a->data.str.ptr;
	char *end;
	long len = strtol(m, &end, 10);

	if (*m && !*end && len >= 0 && len <= (v6 ? 128 : 32)) {
		a->type = ARGT_SINT;
		a->data.sint = len;
		return 0;
	}
	unsigned char b[16];
	if (inet_pton(v6 ? AF_INET6 : AF_INET, m, b) == 1) {
		int n = 0, bytes = v6 ? 16 : 4, seen_zero = 0;
		for (int i = 0; i < bytes * 8; i++) {
			int bit = (b[i / 8] >> (7 - i % 8)) & 1;
			if (bit && seen_zero)
				goto bad;
			seen_zero |= !bit;
			n += bit;
		}
		a->type = ARGT_SINT;
		a->data.sint = n;
		return 0;
	}
bad:
	snprintf(err, errlen, "'%s' is not a valid %s mask (a prefix length or a contiguous mask)", m,
	         v6 ? "IPv6" : "IPv4");
	return -1;
}

static int check_ipmask(struct arg *args, char *err, size_t errlen)
{
	if (parse_mask(&args[0], 0, err, errlen) < 0)
		return -1;
	if (args[1].type == ARGT_STR && parse_mask(&args[1], 1, err, errlen) < 0)
		return -1;
	return 0;
}

static void mask_bytes(unsigned char *p, int bytes, long long len)
{
	for (int i = 0; i < bytes; i++) {
		long long keep = len - i * 8;
		p[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
	}
}

static int conv_ipmask(const struct arg *args, struct sample *smp, void *priv)
{
	(void)priv;
	/* an IPv4-mapped address takes the IPv4 mask, as in HAProxy: the IPv4
	 * clients of a dual-stack listener are grouped by IPv4 network */
	if (smp->type == SMP_T_IPV6 && IN6_IS_ADDR_V4MAPPED(&smp->data.ipv6))
		sample_cast(smp, SMP_T_IPV4);
	if (smp->type == SMP_T_IPV4) {
		mask_bytes((unsigned char *)&smp->data.ipv4, 4, args[0].data.sint);
		return 1;
	}
	if (smp->type == SMP_T_IPV6 && args[1].type == ARGT_SINT) {
		mask_bytes(smp->data.ipv6.s6_addr, 16, args[1].data.sint);
		return 1;
	}
	return 0;   /* an IPv6 address without an IPv6 mask, as HAProxy */
}

static const struct sample_conv std_convs[] = {
	{ "ipmask",  conv_ipmask,   ARG2(1, STR, STR), check_ipmask, SMP_T_ADDR, SMP_T_ADDR },
	{ "lower",   conv_lower,    ARG0, NULL, SMP_T_STR,  SMP_T_STR },
	{ "upper",   conv_upper,    ARG0, NULL, SMP_T_STR,  SMP_T_STR },
	{ "int",     conv_identity, ARG0, NULL, SMP_T_SINT, SMP_T_SINT },
	{ "str",     conv_identity, ARG0, NULL, SMP_T_STR,  SMP_T_STR },
	{ "length",  conv_length,   ARG0, NULL, SMP_T_STR,  SMP_T_SINT },
	{ "bool",    conv_bool,     ARG0, NULL, SMP_T_SINT, SMP_T_BOOL },
	{ "not",     conv_not,      ARG0, NULL, SMP_T_SINT, SMP_T_BOOL },
	{ "add",     conv_arith,    ARG1(1, SINT), NULL, SMP_T_SINT, SMP_T_SINT, (void *)'+' },
	{ "sub",     conv_arith,    ARG1(1, SINT), NULL, SMP_T_SINT, SMP_T_SINT, (void *)'-' },
	{ "mul",     conv_arith,    ARG1(1, SINT), NULL, SMP_T_SINT, SMP_T_SINT, (void *)'*' },
	{ "div",     conv_arith,    ARG1(1, SINT), NULL, SMP_T_SINT, SMP_T_SINT, (void *)'/' },
	{ "mod",     conv_arith,    ARG1(1, SINT), NULL, SMP_T_SINT, SMP_T_SINT, (void *)'%' },
	{ "field",   conv_field,    ARG3(2, SINT, STR, SINT), check_cut, SMP_T_STR, SMP_T_STR },
	{ "word",    conv_word,     ARG3(2, SINT, STR, SINT), check_cut, SMP_T_STR, SMP_T_STR },
	{ "regsub",  conv_regsub,   ARG3(2, REG, STR, STR), check_regsub, SMP_T_STR, SMP_T_STR },
	{ "base64",  conv_base64,   ARG0, NULL, SMP_T_BIN,  SMP_T_STR },
	{ "b64dec",  conv_b64dec,   ARG0, NULL, SMP_T_STR,  SMP_T_BIN },
	{ "hex",     conv_hex,      ARG0, NULL, SMP_T_BIN,  SMP_T_STR },
	{ "url_dec", conv_url_dec,  ARG0, NULL, SMP_T_STR,  SMP_T_STR },
	{ NULL }
};

SMP_CONV_REGISTER(std_convs);
