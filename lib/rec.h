/*
 * rec.h - msgpack records: reading a stream, checked key access with errors
 * that name file, record and key, and writing a record that keeps every key
 * of its input it does not own.
 *
 * A record is a msgpack map with string keys, always "type" (string) and
 * "v" (integer format version). A stream is records back to back; end of
 * input between records is a clean end, inside one it is an error.
 */
#ifndef REC_H
#define REC_H

#include <stdarg.h>
#include <stdio.h>
#include <msgpack.h>

/*
 * Limits every reader enforces before msgpack-c allocates anything: a
 * record's bytes, its objects (msgpack-c makes a 24-byte object for each),
 * and its nesting (msgpack-c's own stack holds 32 containers). json2rec
 * refuses what breaks them (rec_check).
 */
#define REC_MAX_BYTES ((size_t)1 << 30)
#define REC_MAX_ITEMS ((uint64_t)1 << 25)
#define REC_MAX_DEPTH 32

/* The scanner's state over one record's bytes (see rec_scan). */
struct rec_scan {
	size_t pos;                       /* bytes of the record scanned */
	uint64_t items;                   /* objects seen */
	int sd;                           /* open levels (level 0: the record) */
	uint64_t rem[REC_MAX_DEPTH + 1];  /* objects still due at each level */
};

struct rec_in {
	const char *name;    /* file name used in messages */
	int fd;
	int own_fd;          /* close on rec_in_close */
	char *buf;           /* bytes read, not yet returned as records */
	size_t cap, len;     /* buf's size and fill */
	size_t start;        /* where the next record begins in buf */
	long long off;       /* file offset of buf[0] */
	long long size;      /* file size for a regular file, else -1 */
	struct rec_scan sc;  /* the scan of the record at buf + start */
	msgpack_unpacked un;
	long n;              /* 1-based number of the record last returned */
};

/* path "-" or NULL reads stdin; exits EX_NOINPUT if path cannot be opened. */
void rec_in_open(struct rec_in *r, const char *path);
/* Read from an already open descriptor (not closed by rec_in_close). */
void rec_in_fd(struct rec_in *r, int fd, const char *name);
/* The next record, valid until the next call; NULL at a clean end of input.
 * Exits EX_DATAERR on a truncated or malformed record, one that breaks the
 * REC_MAX_* limits or declares more bytes or elements than can follow in
 * its file, one that is not a map, or one without a string "type" and an
 * integer "v". No record reaches msgpack-c before all its bytes are read
 * and scanned, so what it allocates is bounded by the bytes read. */
const msgpack_object *rec_next(struct rec_in *r);
void rec_in_close(struct rec_in *r);

/* Scan the bytes p[0, have) of one record from s->pos on (s zeroed first,
 * then kept between calls as more bytes arrive); follow is how many bytes
 * can still come after p[have) (UINT64_MAX when unknown). Returns 1 when
 * the record is whole (its length in s->pos), 0 when it needs more bytes,
 * -1 with a message in msg (size n) when it breaks a limit or is malformed. */
int rec_scan(struct rec_scan *s, const unsigned char *p, size_t have, uint64_t follow,
    char *msg, size_t n);
/* Does buf hold exactly one record every reader accepts? 0, or -1 with a
 * message in msg (json2rec checks what it writes). */
int rec_check(const void *buf, size_t len, char *msg, size_t n);

/*
 * The records of each input in turn: the file arguments, or stdin when there
 * are none. Errors about a record go through &in->r, which names the file
 * being read and the record's number within it. Each input is closed once
 * its last record has been read.
 */
struct rec_files {
	struct rec_in r;        /* the input being read */
	char *const *paths;     /* the file arguments (n of them) */
	int n;
	int i;                  /* index of the input in r; -1 before the first */
	int open;               /* r is open */
};
void rec_files_init(struct rec_files *in, int argc, char *const *argv);
/* The next record, valid until the next call; NULL (and again NULL on
 * further calls) after the last record of the last input. */
const msgpack_object *rec_files_next(struct rec_files *in);

/* "tool: file: record N: key "k": message" on stderr, exit EX_DATAERR.
 * key may be NULL for a message about the whole record. */
void rec_fail(const struct rec_in *r, const char *key, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
/* The same for any unit of input: "tool: name: UNIT N: key "k": message"
 * (json2rec's lines). */
void rec_vfail(const char *name, const char *unit, long n, const char *key, const char *fmt,
    va_list ap) __attribute__((noreturn, format(printf, 5, 0)));

/* Lookup; NULL if absent. map must be a map object. */
const msgpack_object *rec_get(const msgpack_object *map, const char *key);
/* Does string object o equal s? */
int rec_streq(const msgpack_object *o, const char *s);
/* Is o a number (any integer or float)? Its value as double. */
int rec_isnum(const msgpack_object *o);
double rec_num(const msgpack_object *o);
/* Is map's "type" equal to type? */
int rec_is(const msgpack_object *map, const char *type);

/* Checked getters: each fails via rec_fail when the key is missing, of the
 * wrong type or out of range. */
long rec_int(const struct rec_in *r, const msgpack_object *map, const char *key, long lo, long hi);
double rec_dbl(const struct rec_in *r, const msgpack_object *map, const char *key, double lo, double hi);
/* Copies the string (NUL-terminated) into buf of size n. */
void rec_str(const struct rec_in *r, const msgpack_object *map, const char *key, char *buf, size_t n);
/* A string naming one of names (NULL-terminated): its index; rec_fail
 * listing the names otherwise. */
int rec_choice(const struct rec_in *r, const msgpack_object *map, const char *key,
    const char *const *names);
/* An array; len < 0 accepts any length, else exactly len elements. */
const msgpack_object *rec_arr(const struct rec_in *r, const msgpack_object *map, const char *key, int len);
/* Integer / number arrays of exactly n elements, each in [lo, hi]. */
void rec_ints(const struct rec_in *r, const msgpack_object *map, const char *key, int *out, int n, long lo, long hi);
void rec_dbls(const struct rec_in *r, const msgpack_object *map, const char *key, double *out, int n, double lo, double hi);
/* Optional number: def when absent, rec_fail when present but not a number. */
double rec_dbl_or(const struct rec_in *r, const msgpack_object *map, const char *key, double def);

/*
 * Writing. rec_out_begin starts a record of the given type and version on
 * top of base (NULL for a fresh record); every key of base the tool does not
 * put itself passes through untouched. rec_key packs a key; the caller then
 * packs exactly one value with o->pk (or use the rec_put_* shorthands).
 * rec_out_end writes the whole record at once, so a failure never leaves
 * half a record on the stream; exits EX_IOERR if the write fails.
 */
struct rec_out {
	msgpack_sbuffer body;    /* the tool's own key/value pairs */
	msgpack_sbuffer whole;   /* the finished record */
	msgpack_packer pk;       /* packs into body */
	const msgpack_object *base;
	char type[64];
	long v;
	int nkeys, cap;
	char **keys;             /* keys put so far, to drop them from base */
};
void rec_out_init(struct rec_out *o);
void rec_out_free(struct rec_out *o);
void rec_out_begin(struct rec_out *o, const msgpack_object *base, const char *type, long v);
void rec_key(struct rec_out *o, const char *key);
void rec_out_end(struct rec_out *o, FILE *fp);
/* The finished record's bytes (valid after rec_out_finish, until the next begin). */
void rec_out_finish(struct rec_out *o);

void rec_pack_str(msgpack_packer *pk, const char *s);
void rec_put_int(struct rec_out *o, const char *key, long v);
void rec_put_dbl(struct rec_out *o, const char *key, double v);
void rec_put_str(struct rec_out *o, const char *key, const char *s);
void rec_put_bool(struct rec_out *o, const char *key, int b);
void rec_put_ints(struct rec_out *o, const char *key, const int *v, int n);
void rec_put_longs(struct rec_out *o, const char *key, const long *v, int n);
void rec_put_dbls(struct rec_out *o, const char *key, const double *v, int n);
void rec_put_obj(struct rec_out *o, const char *key, const msgpack_object *v);

/* JSON <-> msgpack, used by rec2json and json2rec. Binary data becomes
 * {"$base64": "..."} in JSON and back. */
#include <jansson.h>
/* Writes o as JSON to fp (pretty: indented lines, else one line); returns
 * 0, or -1 with a message in err (size n) on what JSON cannot hold (invalid
 * UTF-8, a map key that is not a string), with the record's key being
 * written in key (size nkey, "" when none). What fp got is then partial. */
int rec_to_json(FILE *fp, const msgpack_object *o, int pretty, char *key, size_t nkey,
    char *err, size_t n);
/* Packs j; returns 0, or -1 with a message in err (size n) on a value that
 * has no msgpack form. */
int rec_from_json(msgpack_packer *pk, const json_t *j, char *err, size_t n);
/* JSON text s (len bytes) with every integer literal too large for an
 * int64 (jq prints 1.2e+28 as 12068383140518726000000000000) given ".0", so
 * jansson reads it as the number it is instead of failing; strings are left
 * alone. A malloc'd copy (length in *outlen), or NULL when nothing needed
 * it. */
char *rec_json_widen(const char *s, size_t len, size_t *outlen);

#endif
