/* replay.c -- see replay.h.
 *
 * The file: a page of header (magic, size, a random salt, the boot it was
 * last opened in, the robust mutex), then a table of slots, open
 * addressing with linear probing.  A slot's `expires` says what it is:
 * 0 empty (a probe stops there), an instant past (free again: lapsed,
 * released), an instant to come (live or reserved).  Slots never become
 * empty again, so a probe never stops short of an entry; a table whose
 * used slots pass half is rebuilt, at twice the size of what lives in it
 * or more, into a new file that replaces the old one by rename (`moved`
 * tells the processes that still map the old one).  Tags are a salted
 * hash, the salt the file's own: nobody can choose ciphertexts that fall
 * on one chain. */
#include "replay.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "log.h"

#define MAGIC "idgrc01\n"
#define HEAD_SIZE 4096u
#define SALT_LEN 16
#define MIN_SLOTS (1u << 16)
#define MAX_SLOTS (1u << 25)   /* 768 MiB of file: 16 M entries, ~28 000 accepts/s held 10 min */
#define EXPIRES_DEAD 1u        /* released: in the past for any clock */

struct slot {
	uint8_t tag[REPLAY_TAG_LEN];
	uint32_t expires;          /* wall-clock seconds; see the top */
	uint32_t pending;          /* reserved, not yet confirmed */
};

struct head {
	char magic[8];
	uint32_t slot_size;
	uint32_t moved;            /* a rebuilt table has replaced this file */
	uint64_t nslots;           /* a power of two */
	uint64_t used;             /* slots not empty */
	uint8_t salt[SALT_LEN];
	char boot_id[40];
	pthread_mutex_t lock;      /* process-shared, robust */
};

_Static_assert(sizeof(struct head) <= HEAD_SIZE, "the header fits its page");
_Static_assert(sizeof(struct slot) == 24, "slots are packed");

static struct {
	char path[PATH_MAX];
	uint64_t life;             /* seconds an accepted authenticator is kept */
	dev_t dev;                 /* the file mapped */
	ino_t ino;
	struct head *h;
	struct slot *s;
	size_t maplen;
} R;

/* ---------------------------------------------------------------- the file */

static void read_boot_id(char out[40])
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, out, 39) : -1;

	out[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

static int init_lock(struct head *h)
{
	pthread_mutexattr_t a;
	int rc = pthread_mutexattr_init(&a);

	if (!rc)
		rc = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (!rc)
		rc = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (!rc)
		rc = pthread_mutex_init(&h->lock, &a);
	pthread_mutexattr_destroy(&a);
	return rc;
}

static size_t file_size(uint64_t nslots)
{
	return HEAD_SIZE + (size_t)nslots * sizeof(struct slot);
}

/* Map fd whole; NULL with err. */
static struct head *map_fd(int fd, size_t size, char *err, size_t len)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		snprintf(err, len, "replay cache: mmap %zu bytes: %s", size, strerror(errno));
		return NULL;
	}
	return p;
}

/* A new table of nslots in fd (empty or truncated), with this salt. */
static struct head *make_table(int fd, uint64_t nslots, const uint8_t *salt, char *err,
			       size_t len)
{
	struct head *h;

	if (ftruncate(fd, 0) < 0 || ftruncate(fd, (off_t)file_size(nslots)) < 0) {
		snprintf(err, len, "replay cache: cannot size the file: %s", strerror(errno));
		return NULL;
	}
	h = map_fd(fd, file_size(nslots), err, len);
	if (!h)
		return NULL;
	h->slot_size = sizeof(struct slot);
	h->nslots = nslots;
	memcpy(h->salt, salt, SALT_LEN);
	read_boot_id(h->boot_id);
	if (init_lock(h) != 0) {
		snprintf(err, len, "replay cache: cannot make its lock");
		munmap(h, file_size(nslots));
		return NULL;
	}
	memcpy(h->magic, MAGIC, sizeof(h->magic)); /* last: the table is whole */
	return h;
}

/* The header agrees with itself and with the file's size. */
static bool table_valid(const struct head *h, size_t size)
{
	return memcmp(h->magic, MAGIC, sizeof(h->magic)) == 0 &&
	       h->slot_size == sizeof(struct slot) && h->nslots >= MIN_SLOTS &&
	       h->nslots <= MAX_SLOTS && (h->nslots & (h->nslots - 1)) == 0 &&
	       file_size(h->nslots) == size && h->used <= h->nslots;
}

/* An existing file, checked; NULL (err empty) when it must be made anew. */
static struct head *map_existing(int fd, char *err, size_t len)
{
	struct stat st;
	struct head *h;
	char boot[40];

	err[0] = '\0';
	if (fstat(fd, &st) < 0 || st.st_size < (off_t)HEAD_SIZE)
		return NULL;
	h = map_fd(fd, (size_t)st.st_size, err, len);
	if (!h)
		return NULL;
	if (!table_valid(h, (size_t)st.st_size)) {
		log_msg(LOG_WARNING, "replay cache %s is not a table of ours: made anew", R.path);
		munmap(h, (size_t)st.st_size);
		return NULL;
	}
	/* The lock may be held by a process of an earlier boot that no
	 * kernel will ever declare dead: the first opener of this boot
	 * (under flock) makes it afresh.  The entries stay. */
	read_boot_id(boot);
	if (strcmp(boot, h->boot_id) != 0) {
		if (init_lock(h) != 0) {
			snprintf(err, len, "replay cache: cannot make its lock");
			munmap(h, (size_t)st.st_size);
			return NULL;
		}
		memcpy(h->boot_id, boot, sizeof(boot));
	}
	return h;
}

static struct slot *slots_of(struct head *h)
{
	return (struct slot *)((char *)h + HEAD_SIZE);
}

/* h, mapped from fd, becomes this process's table. */
static void adopt(struct head *h, int fd)
{
	struct stat st;

	R.h = h;
	R.s = slots_of(h);
	R.maplen = file_size(h->nslots);
	R.dev = 0;
	R.ino = 0;
	if (fstat(fd, &st) == 0) {
		R.dev = st.st_dev;
		R.ino = st.st_ino;
	}
}

/* Map R.path, making it if it is missing or not ours.  0 or -1 with err. */
static int map_path(char *err, size_t len)
{
	int fd = open(R.path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	uint8_t salt[SALT_LEN];
	struct head *h = NULL;

	if (fd < 0) {
		snprintf(err, len, "replay cache %s: %s", R.path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX) < 0) {
		snprintf(err, len, "replay cache %s: flock: %s", R.path, strerror(errno));
		close(fd);
		return -1;
	}
	h = map_existing(fd, err, len);
	if (!h && !err[0]) {
		if (getrandom(salt, sizeof(salt), 0) != (ssize_t)sizeof(salt))
			snprintf(err, len, "replay cache: getrandom: %s", strerror(errno));
		else
			h = make_table(fd, MIN_SLOTS, salt, err, len);
	}
	if (h)
		adopt(h, fd);
	flock(fd, LOCK_UN); /* explicitly: the mapping keeps the file, and its flock, open */
	close(fd);
	return h ? 0 : -1;
}

static void unmap(void)
{
	if (R.h)
		munmap(R.h, R.maplen);
	R.h = NULL;
	R.s = NULL;
}

int replay_open(const char *dir, unsigned skew_s, char *err, size_t len)
{
	if (snprintf(R.path, sizeof(R.path), "%s/%s", dir, REPLAY_FILE) >= (int)sizeof(R.path)) {
		snprintf(err, len, "replay cache: path too long");
		return -1;
	}
	R.life = 2 * (uint64_t)skew_s + 1;
	unmap();
	return map_path(err, len);
}

void replay_close(void)
{
	unmap();
}

void replay_tag_of(const uint8_t *cipher, size_t len, struct replay_tag *out)
{
	uint8_t buf[SALT_LEN + 1024], digest[32];
	gnutls_hash_hd_t hd;

	memcpy(buf, R.h ? R.h->salt : (const uint8_t[SALT_LEN]){ 0 }, SALT_LEN);
	if (len <= sizeof(buf) - SALT_LEN) {
		memcpy(buf + SALT_LEN, cipher, len);
		gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, SALT_LEN + len, digest);
	} else if (gnutls_hash_init(&hd, GNUTLS_DIG_SHA256) == 0) {
		gnutls_hash(hd, buf, SALT_LEN);
		gnutls_hash(hd, cipher, len);
		gnutls_hash_deinit(hd, digest);
	} else {
		memset(digest, 0, sizeof(digest));
	}
	memcpy(out->b, digest, REPLAY_TAG_LEN);
}

/* ---------------------------------------------------------------- the table */

static uint64_t slot_of(const struct replay_tag *t, uint64_t nslots)
{
	uint64_t v;

	memcpy(&v, t->b, sizeof(v));
	return v & (nslots - 1);
}

/* The live slot holding t, or -1; *room: the first free slot on its
 * chain (lapsed or empty), for an insert. */
static int64_t probe(const struct slot *s, uint64_t nslots, const struct replay_tag *t,
		     uint32_t now, int64_t *room)
{
	uint64_t i = slot_of(t, nslots);

	*room = -1;
	for (uint64_t k = 0; k < nslots; k++, i = (i + 1) & (nslots - 1)) {
		const struct slot *x = &s[i];
		if (x->expires > now && memcmp(x->tag, t->b, REPLAY_TAG_LEN) == 0)
			return (int64_t)i;
		if (x->expires <= now && *room < 0)
			*room = (int64_t)i;
		if (x->expires == 0)
			break;
	}
	return -1;
}

static void put(struct slot *s, uint64_t nslots, uint64_t *used, const struct replay_tag *t,
		uint32_t expires, uint32_t pending, uint32_t now)
{
	int64_t room;

	if (probe(s, nslots, t, now, &room) >= 0 || room < 0)
		return;
	if (s[room].expires == 0)
		(*used)++;
	memcpy(s[room].tag, t->b, REPLAY_TAG_LEN);
	s[room].pending = pending;
	s[room].expires = expires;
}

/* A process that died holding the lock may have been between putting a
 * rebuilt table in place and marking the old one moved. */
static void mark_if_replaced(void)
{
	struct stat st;

	if (stat(R.path, &st) == 0 && (st.st_dev != R.dev || st.st_ino != R.ino))
		R.h->moved = 1;
}

/* Lock the table this process maps, following a rebuild done by another
 * process.  0, or -1 with err. */
static int lock_table(char *err, size_t len)
{
	for (int tries = 0; tries < 8; tries++) {
		int rc;
		if (!R.h && map_path(err, len) < 0)
			return -1;
		rc = pthread_mutex_lock(&R.h->lock);
		if (rc == EOWNERDEAD) {
			log_msg(LOG_WARNING, "replay cache: a process died holding its lock; going on");
			pthread_mutex_consistent(&R.h->lock);
			mark_if_replaced();
		} else if (rc != 0) {
			snprintf(err, len, "replay cache: lock: %s", strerror(rc));
			return -1;
		}
		if (!R.h->moved)
			return 0;
		pthread_mutex_unlock(&R.h->lock);
		unmap();
	}
	snprintf(err, len, "replay cache: %s keeps moving", R.path);
	return -1;
}

static uint64_t live_slots(uint32_t now)
{
	uint64_t n = 0;

	for (uint64_t i = 0; i < R.h->nslots; i++)
		n += R.s[i].expires > now;
	return n;
}

/* Copy what lives into a new file of nslots, which replaces R.path; the
 * old table is marked moved.  Called with the old table locked; leaves
 * the new one mapped (unlocked, and nobody else has it yet).  0 or -1. */
static int rebuild(uint64_t nslots, uint32_t now, char *err, size_t len)
{
	char tmp[PATH_MAX + 16];
	struct head *old = R.h, *h;
	struct slot *s;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.%d", R.path, (int)getpid());
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, len, "replay cache %s: %s", tmp, strerror(errno));
		return -1;
	}
	h = make_table(fd, nslots, old->salt, err, len);
	if (!h) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	/* filled before anyone can open it by its name */
	s = slots_of(h);
	for (uint64_t i = 0; i < old->nslots; i++)
		if (R.s[i].expires > now)
			put(s, nslots, &h->used, (const struct replay_tag *)R.s[i].tag,
			    R.s[i].expires, R.s[i].pending, now);
	if (rename(tmp, R.path) < 0) {
		snprintf(err, len, "replay cache: rename %s: %s", tmp, strerror(errno));
		munmap(h, file_size(nslots));
		close(fd);
		unlink(tmp);
		return -1;
	}
	old->moved = 1;
	pthread_mutex_unlock(&old->lock);
	unmap();
	adopt(h, fd);
	close(fd);
	return 0;
}

/* Room for n more: past half the slots used, a table of at least four
 * times what lives (lapsed slots are left behind).  Locked on return, as
 * on entry, unless -1. */
static int make_room(size_t n, uint32_t now, char *err, size_t len)
{
	uint64_t live, want = MIN_SLOTS;

	if (R.h->used + n <= R.h->nslots / 2)
		return 0;
	live = live_slots(now) + n;
	while (want < 4 * live && want < MAX_SLOTS)
		want *= 2;
	if (live > want / 2) {
		snprintf(err, len, "replay cache full: %llu authenticators live in the last %llu s",
			 (unsigned long long)live, (unsigned long long)R.life);
		return -1;
	}
	if (rebuild(want, now, err, len) < 0)
		return -1;
	log_msg(LOG_INFO, "replay cache: %llu slots for %llu live authenticators",
		(unsigned long long)want, (unsigned long long)live);
	return lock_table(err, len);
}

/* ---------------------------------------------------------------- the interface */

static uint32_t wall_now(void)
{
	return (uint32_t)time(NULL);
}

/* now + s, held below the end of uint32 (a clock skew of years) */
static uint32_t later(uint32_t now, uint64_t s)
{
	return now + s > UINT32_MAX ? UINT32_MAX : (uint32_t)(now + s);
}

enum replay_answer replay_reserve(const struct replay_tag *t, size_t n, char *err, size_t len)
{
	uint32_t now = wall_now();
	int64_t room;

	if (lock_table(err, len) < 0)
		return REPLAY_FULL;
	if (make_room(n, now, err, len) < 0) {
		if (R.h)
			pthread_mutex_unlock(&R.h->lock);
		return REPLAY_FULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (probe(R.s, R.h->nslots, &t[i], now, &room) >= 0) {
			pthread_mutex_unlock(&R.h->lock);
			return REPLAY_SEEN;
		}
	}
	for (size_t i = 0; i < n; i++)
		put(R.s, R.h->nslots, &R.h->used, &t[i], later(now, REPLAY_PENDING_S), 1, now);
	pthread_mutex_unlock(&R.h->lock);
	return REPLAY_FRESH;
}

static void settle(const struct replay_tag *t, size_t n, bool accepted)
{
	char err[200];
	uint32_t now = wall_now();
	int64_t room, i;

	if (lock_table(err, sizeof(err)) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		i = probe(R.s, R.h->nslots, &t[k], now, &room);
		if (i >= 0 && R.s[i].pending) {
			R.s[i].pending = 0;
			R.s[i].expires = accepted ? later(now, R.life) : EXPIRES_DEAD;
		} else if (i < 0 && accepted) { /* its reservation lapsed: keep it anyway */
			put(R.s, R.h->nslots, &R.h->used, &t[k], later(now, R.life), 0, now);
		}
	}
	pthread_mutex_unlock(&R.h->lock);
}

void replay_confirm(const struct replay_tag *t, size_t n)
{
	settle(t, n, true);
}

void replay_release(const struct replay_tag *t, size_t n)
{
	settle(t, n, false);
}

void replay_stats(uint64_t *used, uint64_t *slots)
{
	char err[200];

	*used = *slots = 0;
	if (lock_table(err, sizeof(err)) < 0)
		return;
	*used = R.h->used;
	*slots = R.h->nslots;
	pthread_mutex_unlock(&R.h->lock);
}
