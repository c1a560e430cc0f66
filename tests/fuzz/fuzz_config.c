/*
 * Fuzz target config: server/config.c's parser (config_loadb, which
 * config_load uses after reading the file) on arbitrary bytes.  On
 * success every string is set and free of control characters, paths
 * are absolute, every number is inside the range SPEC section 4 gives,
 * the profiles are valid and findable, and the views can be taken; on
 * failure the code is ERR_CONFIG with a "config: " message and nothing
 * is left allocated.  Corpus: tests/fuzz/corpus/config/.
 */
#include <string.h>

#include "config.h"
#include "fuzz.h"

#define DIR	"/etc/redis-ca"

static void
check_str(const char *s)
{
	fuzz_check(s != NULL && s[0] != '\0');
	for (; *s != '\0'; s++)
		fuzz_check((unsigned char)*s >= 0x20 && *s != 0x7f);
}

static void
check_path(const char *s)
{
	check_str(s);
	fuzz_check(s[0] == '/');
}

static void
check_profile(const struct config *c, const struct profile *p)
{
	fuzz_check(p->name[0] != '\0');
	fuzz_check(config_profile(c, p->name) == p);
	fuzz_check(p->eku != 0 && (p->eku & ~(unsigned)(EKU_SERVER_AUTH |
	    EKU_CLIENT_AUTH)) == 0);
	fuzz_check(p->key_types != 0 &&
	    (p->key_types & ~((1u << KEY__MAX) - 1)) == 0);
	fuzz_check(p->default_ttl > 0 && p->max_ttl > 0);
	fuzz_check(p->default_ttl <= p->max_ttl);
}

static void
check_config(const struct config *c)
{
	struct svc_config sv;
	struct api_config av;

	check_str(c->api_listen);
	if (c->public_listen != NULL)
		check_str(c->public_listen);
	check_str(c->public_url);
	fuzz_check(strncmp(c->public_url, "http://", 7) == 0 ||
	    strncmp(c->public_url, "https://", 8) == 0);
	fuzz_check(c->public_url[strlen(c->public_url) - 1] != '/');
	fuzz_check(strcmp(c->dir, DIR) == 0);
	check_path(c->api_tls_cert);
	check_path(c->api_tls_key);
	check_path(c->ca_cert);
	check_path(c->ca_key);
	if (c->ca_key_passphrase_file != NULL)
		check_path(c->ca_key_passphrase_file);
	check_path(c->database);
	check_path(c->admin_cert);
	check_path(c->admin_key);
	fuzz_check(c->crl_refresh_before > 0 && c->crl_validity > 0);
	fuzz_check(c->crl_refresh_before < c->crl_validity);
	fuzz_check(c->rotation_check_interval > 0);
	fuzz_check(c->rotation_renew_before_pct >= 1 &&
	    c->rotation_renew_before_pct <= 99);
	fuzz_check(c->max_body_bytes >= 1024 &&
	    c->max_body_bytes <= 16 * 1024 * 1024);
	fuzz_check(c->threads <= 1024);
	fuzz_check(c->max_connections >= 1 && c->max_connections <= 65536);
	fuzz_check(c->nprofiles >= 1 && c->nprofiles <= RCA_MAX_PROFILES);
	for (size_t i = 0; i < c->nprofiles; i++)
		check_profile(c, &c->profiles[i]);
	config_svc_view(c, &sv);
	config_api_view(c, &av);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct config c = CONFIG_INIT;
	struct err e;

	if (config_loadb((const char *)data, len, DIR, &c, &e) == 0) {
		check_config(&c);
		config_clear(&c);
		return 0;
	}
	fuzz_check(e.code == ERR_CONFIG || e.code == ERR_INTERNAL);
	fuzz_check(e.code != ERR_CONFIG ||
	    strncmp(e.msg, "config: ", 8) == 0);
	fuzz_check(c.dir == NULL && c.api_listen == NULL &&
	    c.nprofiles == 0);
	return 0;
}
