/* idpolicy.c -- which ids impersonation may use (see idpolicy.h). */
#include "idpolicy.h"

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool in_range(uint32_t id, uint32_t lo, uint32_t hi)
{
	return id >= lo && id <= hi && id != 0 && id != UINT32_MAX;
}

bool idpol_uid_ok(const struct id_policy *p, uint32_t uid)
{
	return in_range(uid, p->min_uid, p->max_uid);
}

bool idpol_gid_ok(const struct id_policy *p, uint32_t gid)
{
	if (in_range(gid, p->min_gid, p->max_gid))
		return true;
	for (size_t i = 0; i < p->nextra; i++)
		if (gid == p->extra_gids[i] && gid != 0 && gid != UINT32_MAX)
			return true;
	return false;
}

bool idpol_refuses_account(const struct id_policy *p, const char *user, uint32_t uid,
			   uint32_t gid, char *why, size_t len)
{
	if (uid == 0 || uid < p->min_uid) {
		snprintf(why, len, "account %s (uid %u) is below min_uid %u: never impersonated",
			 user, uid, p->min_uid);
		return true;
	}
	if (!idpol_uid_ok(p, uid)) {
		snprintf(why, len, "account %s (uid %u) is above max_uid %u: never impersonated",
			 user, uid, p->max_uid);
		return true;
	}
	if (!idpol_gid_ok(p, gid)) {
		snprintf(why, len, "primary group of %s (gid %u) is outside min_gid %u .. max_gid "
			 "%u and not in impersonate_groups: never impersonated",
			 user, gid, p->min_gid, p->max_gid);
		return true;
	}
	return false;
}

static void name_group(uint32_t gid, char *out, size_t len)
{
	struct group gr, *res = NULL;
	char buf[4096];

	if (getgrgid_r(gid, &gr, buf, sizeof(buf), &res) == 0 && res)
		snprintf(out, len, "%s(%u)", gr.gr_name, gid);
	else
		snprintf(out, len, "%u", gid);
}

size_t idpol_filter_groups(const struct id_policy *p, uint32_t *groups, size_t n, char *left_out,
			   size_t len)
{
	size_t k = 0, off = 0;

	if (left_out && len)
		left_out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		char one[300];
		if (idpol_gid_ok(p, groups[i])) {
			groups[k++] = groups[i];
			continue;
		}
		if (!left_out || off + 1 >= len)
			continue;
		name_group(groups[i], one, sizeof(one));
		int w = snprintf(left_out + off, len - off, "%s%s", off ? " " : "", one);
		off = w < 0 || (size_t)w >= len - off ? len - 1 : off + (size_t)w;
	}
	return k;
}

static int cmp_interval(const void *a, const void *b)
{
	const struct id_interval *x = a, *y = b;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

int idpol_intervals(const struct id_policy *p, bool gids, const uint32_t *own, size_t nown,
		    struct id_interval *out, size_t max)
{
	size_t n = 0, k = 0;
	size_t total = nown + 1 + (gids ? p->nextra : 0);
	struct id_interval *all = calloc(total, sizeof(*all));

	if (!all)
		return -1;
	for (size_t i = 0; i < nown; i++)
		all[n++] = (struct id_interval){ own[i], own[i] };
	all[n++] = gids ? (struct id_interval){ p->min_gid, p->max_gid }
			: (struct id_interval){ p->min_uid, p->max_uid };
	for (size_t i = 0; gids && i < p->nextra; i++)
		all[n++] = (struct id_interval){ p->extra_gids[i], p->extra_gids[i] };
	qsort(all, n, sizeof(*all), cmp_interval);
	for (size_t i = 0; i < n; i++) {
		/* (id_t)-1 means "unchanged" to the kernel: never an id to map */
		if (all[i].hi == UINT32_MAX)
			all[i].hi = UINT32_MAX - 1;
		if (all[i].lo > all[i].hi)
			continue;
		if (k && all[i].lo <= out[k - 1].hi) { /* overlapping: one */
			if (all[i].hi > out[k - 1].hi)
				out[k - 1].hi = all[i].hi;
			continue;
		}
		if (k == max) {
			free(all);
			return -1;
		}
		out[k++] = all[i];
	}
	free(all);
	return (int)k;
}
