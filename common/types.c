/* Names of the shared enums. */
#include <string.h>

#include "types.h"

static const char *const key_names[KEY__MAX] = {
	[KEY_EC_P256] = "ec-p256",
	[KEY_EC_P384] = "ec-p384",
	[KEY_RSA_2048] = "rsa-2048",
	[KEY_RSA_3072] = "rsa-3072",
	[KEY_RSA_4096] = "rsa-4096",
};

const char *
key_type_name(enum key_type t)
{
	if ((unsigned)t >= KEY__MAX)
		return "unknown";
	return key_names[t];
}

int
key_type_parse(const char *s, enum key_type *out)
{
	for (int i = 0; s != NULL && i < KEY__MAX; i++)
		if (strcmp(s, key_names[i]) == 0) {
			*out = (enum key_type)i;
			return 0;
		}
	return -1;
}

unsigned
eku_parse(const char *s)
{
	if (s == NULL)
		return 0;
	if (strcmp(s, "serverAuth") == 0)
		return EKU_SERVER_AUTH;
	if (strcmp(s, "clientAuth") == 0)
		return EKU_CLIENT_AUTH;
	return 0;
}

static const struct {
	int		 code;
	const char	*name;
} reasons[] = {
	{ REASON_UNSPECIFIED, "unspecified" },
	{ REASON_KEY_COMPROMISE, "keyCompromise" },
	{ REASON_AFFILIATION_CHANGED, "affiliationChanged" },
	{ REASON_SUPERSEDED, "superseded" },
	{ REASON_CESSATION_OF_OPERATION, "cessationOfOperation" },
	{ REASON_PRIVILEGE_WITHDRAWN, "privilegeWithdrawn" },
};

bool
reason_code_valid(int code)
{
	return code >= 0 && code <= 10 && code != 7;
}

const char *
reason_name(int code)
{
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].name;
	return NULL;
}

int
reason_parse(const char *s, int *out)
{
	for (size_t i = 0; s != NULL && i < sizeof(reasons) /
	    sizeof(reasons[0]); i++)
		if (strcmp(s, reasons[i].name) == 0) {
			*out = reasons[i].code;
			return 0;
		}
	return -1;
}
