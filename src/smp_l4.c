/* Connection-level and internal sample fetches: addresses and ports,
 * constants, backend state (TLS ones are in smp_ssl.c). */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <proxyd/acl.h>
#include <proxyd/addr.h>
#include <proxyd/proxy.h>
#include <proxyd/sample.h>
#include <proxyd/stream.h>

static int fill_addr(struct sample *smp, const union sockaddr_any *a)
{
	if (a->sa.sa_family == AF_INET) {
		smp->type = SMP_T_IPV4;
		smp->data.ipv4 = a->in.sin_addr;
		return 1;
	}
	if (a->sa.sa_family == AF_INET6) {
		smp->type = SMP_T_IPV6;
		smp->data.ipv6 = a->in6.sin6_addr;
		return 1;
	}
	return 0;
}

static int fill_port(struct sample *smp, const union sockaddr_any *a)
{
	if (a->sa.sa_family != AF_INET && a->sa.sa_family != AF_INET6)
		return 0;
	smp->type = SMP_T_SINT;
	smp->data.sint = addr_port(&a->sa);
	return 1;
}

static int smp_fetch_src(const struct arg *args, struct sample *smp, struct stream *s,
                         const struct sample_fetch *kw)
{
	return fill_addr(smp, &s->src);
}

static int smp_fetch_src_port(const struct arg *args, struct sample *smp, struct stream *s,
                              const struct sample_fetch *kw)
{
	return fill_port(smp, &s->src);
}

static int smp_fetch_dst(const struct arg *args, struct sample *smp, struct stream *s,
                         const struct sample_fetch *kw)
{
	const union sockaddr_any *d = stream_dst(s);
	return d && fill_addr(smp, d);
}

static int smp_fetch_dst_port(const struct arg *args, struct sample *smp, struct stream *s,
                              const struct sample_fetch *kw)
{
	const union sockaddr_any *d = stream_dst(s);
	return d && fill_port(smp, d);
}

static int smp_fetch_bool_const(const struct arg *args, struct sample *smp, struct stream *s,
                                const struct sample_fetch *kw)
{
	smp->type = SMP_T_BOOL;
	smp->data.sint = kw->priv;
	return 1;
}

/* Number of usable servers of a backend (the current one without argument). */
static int smp_fetch_nbsrv(const struct arg *args, struct sample *smp, struct stream *s,
                           const struct sample_fetch *kw)
{
	const struct proxy *be = args[0].type == ARGT_BE ? args[0].data.be : s->be;

	if (!be)
		return 0;
	smp->type = SMP_T_SINT;
	smp->data.sint = be->srv_act ? be->srv_act : be->srv_bck;
	return 1;
}

static int smp_fetch_be_conn(const struct arg *args, struct sample *smp, struct stream *s,
                             const struct sample_fetch *kw)
{
	const struct proxy *be = args[0].type == ARGT_BE ? args[0].data.be : s->be;

	if (!be)
		return 0;
	smp->type = SMP_T_SINT;
	smp->data.sint = be->beconn;
	return 1;
}

static int smp_fetch_fe_conn(const struct arg *args, struct sample *smp, struct stream *s,
                             const struct sample_fetch *kw)
{
	smp->type = SMP_T_SINT;
	smp->data.sint = s->fe->feconn;
	return 1;
}

/* Constants: int(12), str(text), bool(1), ipv4(1.2.3.4), ipv6(::1), meth(GET). */
static int smp_fetch_const_int(const struct arg *args, struct sample *smp, struct stream *s,
                               const struct sample_fetch *kw)
{
	smp->type = kw->priv ? SMP_T_BOOL : SMP_T_SINT;
	smp->data.sint = kw->priv ? args[0].data.sint != 0 : args[0].data.sint;
	return 1;
}

static int smp_fetch_const_str(const struct arg *args, struct sample *smp, struct stream *s,
                               const struct sample_fetch *kw)
{
	smp->type = SMP_T_STR;
	smp->flags |= SMP_F_CONST;
	smp->data.str.ptr = args[0].type == ARGT_STR ? args[0].data.str.ptr : "";
	smp->data.str.len = args[0].type == ARGT_STR ? args[0].data.str.len : 0;
	if (kw->priv) {
		/* ipv4 / ipv6 / meth: checked at load time, cast now */
		return sample_cast(smp, (enum smp_type)kw->priv);
	}
	return 1;
}

static int check_const_family(struct arg *args, char *err, size_t errlen, enum smp_type want)
{
	struct sample smp = { .type = SMP_T_STR };

	smp.data.str.ptr = args[0].data.str.ptr;
	smp.data.str.len = args[0].data.str.len;
	if (!sample_cast(&smp, SMP_T_ADDR) || smp.type != want) {
		snprintf(err, errlen, "'%s' is not an %s address", args[0].data.str.ptr,
		         want == SMP_T_IPV4 ? "IPv4" : "IPv6");
		return -1;
	}
	return 0;
}

static int check_const_v4(struct arg *args, char *err, size_t errlen)
{
	return check_const_family(args, err, errlen, SMP_T_IPV4);
}

static int check_const_v6(struct arg *args, char *err, size_t errlen)
{
	return check_const_family(args, err, errlen, SMP_T_IPV6);
}

static const struct sample_fetch l4_fetches[] = {
	{ "int",          smp_fetch_const_int,  ARG1(1, SINT), NULL, SMP_T_SINT, SMP_USE_INT, 0 },
	{ "bool",         smp_fetch_const_int,  ARG1(1, SINT), NULL, SMP_T_BOOL, SMP_USE_INT, 1 },
	{ "str",          smp_fetch_const_str,  ARG1(1, STR),  NULL, SMP_T_STR,  SMP_USE_INT, 0 },
	{ "ipv4",         smp_fetch_const_str,  ARG1(1, STR),  check_const_v4, SMP_T_IPV4, SMP_USE_INT, SMP_T_IPV4 },
	{ "ipv6",         smp_fetch_const_str,  ARG1(1, STR),  check_const_v6, SMP_T_IPV6, SMP_USE_INT, SMP_T_IPV6 },
	{ "meth",         smp_fetch_const_str,  ARG1(1, STR),  NULL, SMP_T_METH, SMP_USE_INT, SMP_T_METH },
	{ "src",          smp_fetch_src,        ARG0, NULL, SMP_T_ADDR, SMP_USE_L4 },
	{ "src_port",     smp_fetch_src_port,   ARG0, NULL, SMP_T_SINT, SMP_USE_L4 },
	{ "dst",          smp_fetch_dst,        ARG0, NULL, SMP_T_ADDR, SMP_USE_L4 },
	{ "dst_port",     smp_fetch_dst_port,   ARG0, NULL, SMP_T_SINT, SMP_USE_L4 },
	{ "always_true",  smp_fetch_bool_const, ARG0, NULL, SMP_T_BOOL, SMP_USE_INT, 1 },
	{ "always_false", smp_fetch_bool_const, ARG0, NULL, SMP_T_BOOL, SMP_USE_INT, 0 },
	{ "nbsrv",        smp_fetch_nbsrv,      ARG1(0, BE), NULL, SMP_T_SINT, SMP_USE_INT },
	{ "be_conn",      smp_fetch_be_conn,    ARG1(0, BE), NULL, SMP_T_SINT, SMP_USE_INT },
	{ "fe_conn",      smp_fetch_fe_conn,    ARG0, NULL, SMP_T_SINT, SMP_USE_INT },
	{ NULL }
};

SMP_FETCH_REGISTER(l4_fetches);

/* ACL keywords: the fetch with its natural matching method. */
static const struct acl_kw l4_acl_kws[] = {
	{ "src", "src", PAT_MATCH_IP },
	{ "dst", "dst", PAT_MATCH_IP },
	{ NULL }
};

ACL_KW_REGISTER(l4_acl_kws);
