/* One UDL answer page (a JSON array of records) -> the window's CSV rows or JSON
 * records, without building a Python object per record.
 *
 * pages.py holds the rules (historical-download.md "Chunking and the artifact");
 * this is the same work for the common answer, in C with the GIL released, so
 * the fetching threads decode on every core without shipping bodies to worker
 * processes. It declines (returns None) whenever an answer is not that common
 * case, and pages.py's Python path then decides, raises or encodes exactly as
 * it always did:
 *   - the body is not one JSON array of objects, or is not valid JSON (cut
 *     off, a maintenance page, NaN, ...), or is 4 GiB or more, holds a byte
 *     >= 0x80 or a \u escape of a surrogate (paired or not), or a record's
 *     arrays and objects nest deeper than MAX_DEPTH (any record);
 *   - a number is longer than MAX_NUMBER_LEN or has 3 or more exponent digits
 *     (it might not be finite);
 *   - a key has an escape or is longer than 255 bytes;
 *   - a record's obTime is not 24 characters with '.' at 19 and 'Z' at 23 (the
 *     test chunks._is_canonical makes), or the kept records are not in time order;
 *   - a kept record repeats a key, or the page's columns (the columns given,
 *     then the kept records' new keys) would pass MAX_COLUMNS;
 *   - CSV only: the rows' cells would write more than the bound below;
 *   - CSV only: a kept record's plain (not nested) string value has an escape;
 *   - an id must be looked at (seen ids to drop, or ids to report) and is not
 *     a string, or has an escape (only the ids of records in the window are).
 * What it writes: a row per kept record, one cell per column (the columns
 * given, then new keys in order of first sight); null or absent: "" (an
 * empty quoted cell, as csvrows writes it); strings quoted; numbers, true and
 * false as written (1.50 stays 1.50); arrays and objects as compact JSON in a
 * quoted cell (quotes doubled; copied as written, so a nested object that
 * repeats a key keeps both, where Python keeps the last), their columns
 * reported as nested. JSON output: the kept records, compact, joined by commas.
 *
 * Bounded work (issue 20): UDL's answers are untrusted bytes, and this runs with the
 * GIL released where nothing can interrupt it, so every page costs time linear in
 * its size and memory linear in it too. A REACH record (udl.md "A REACH record") has
 * 25-40 keys and nests at most 2 deep (seoList: a list holding one object; senPos: a
 * list of floats). With a wide margin:
 *   - MAX_COLUMNS 256 columns a page (the day's given plus the page's new keys;
 *     udl.md names 34 keys, the newer ones included): a column is found by a
 *     hash of its name (COLUMN_SLOTS open-addressed slots), so a record with keys
 *     in any order costs one lookup a field, never a scan of the columns;
 *   - MAX_DEPTH 16 levels of arrays and objects inside a record (seoList's list is
 *     level 1, its object level 2), which also bounds the C stack;
 *   - CSV: a row has a cell for every column, so a few records with many keys and
 *     many tiny records would write columns x rows cells (one 65,000-key record and
 *     500 small ones: 98 MB from 723 KB). The cells alone, kept x (3 x columns + 1)
 *     bytes (an empty quoted cell and its comma), may not pass MAX_OUTPUT_RATIO times
 *     the body's size plus OUTPUT_ALLOWANCE; a real page writes 0.65 times its size
 *     in all (records holding only their obTime, under 40 columns: 3.2 times).
 *     Checked before allocating; the
 *     values themselves add at most twice the body (quotes doubled). JSON writes each
 *     kept record once, never more than the body (Python's orjson: at most about 5
 *     times, rewriting a number such as 1e15 in full).
 * pagebounds.py holds the same numbers for the Python path, which refuses (UdlError)
 * a page past them; the module exports them so a test can compare. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 16
#define MAX_COLUMNS 256
#define COLUMN_SLOTS 1024  /* a power of two over 2 x MAX_COLUMNS: short probes */
#define MAX_OUTPUT_RATIO 8
#define OUTPUT_ALLOWANCE 65536
#define CANONICAL_LEN 24
#define MAX_NUMBER_LEN 64  /* with at most 2 exponent digits: finite as a double */

enum kind { K_STR, K_NUM, K_TRUE, K_FALSE, K_NULL, K_ARR, K_OBJ };

typedef struct {  /* 24 bytes: a full ALL page has 240,000 */
    const char *key;      /* inside the quotes */
    const char *val;      /* a string's text inside its quotes, else the whole value */
    uint32_t val_len;     /* bodies are under 4 GiB */
    uint16_t column;      /* set by map_columns */
    uint8_t key_len;      /* longer keys: declined */
    uint8_t kind : 4;
    uint8_t escaped : 1;  /* a string value holding a backslash escape */
} Field;

typedef struct {
    const char *start;    /* the record's '{' */
    Py_ssize_t len;       /* to its '}' included */
    Py_ssize_t first;     /* index of its first field */
    Py_ssize_t count;
    Py_ssize_t time;      /* index of obTime among all fields, or -1 */
    Py_ssize_t id;        /* index of id, or -1 */
} Record;

typedef struct {
    const char *p, *end;
    Field *fields;
    Py_ssize_t nfields, cap_fields;
    Record *records;
    Py_ssize_t nrecords, cap_records;
} Parser;

/* 1: ends a run of plain string bytes (quote, backslash, control, non-ASCII) */
static unsigned char string_stop[256];
/* 1: JSON whitespace */
static unsigned char blank[256];

static void init_tables(void) {
    for (int c = 0; c < 256; c++) {
        string_stop[c] = (c < 0x20 || c == '"' || c == '\\' || c >= 0x80);
        blank[c] = (c == ' ' || c == '\t' || c == '\n' || c == '\r');
    }
}

static int grow(void **items, Py_ssize_t *cap, Py_ssize_t need, size_t size) {
    if (need <= *cap) return 1;
    Py_ssize_t wanted = *cap ? *cap : 64;
    while (wanted < need) wanted *= 2;
    void *moved = PyMem_RawRealloc(*items, (size_t)wanted * size);
    if (moved == NULL) return 0;
    *items = moved;
    *cap = wanted;
    return 1;
}

static void skip_blank(Parser *ps) {
    while (ps->p < ps->end && blank[(unsigned char)*ps->p]) ps->p++;
}

static int is_hex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string from its opening quote; 1 and the text's span, 0 when not acceptable JSON.
 * A backslash escape is checked (its form, not its code point) and flagged. */
static int scan_string(Parser *ps, const char **text, Py_ssize_t *len, int *escaped) {
    const char *p = ps->p + 1, *end = ps->end;
    *escaped = 0;
    for (;;) {
        while (p < end && !string_stop[(unsigned char)*p]) p++;
        if (p >= end) return 0;
        if (*p == '"') break;
        if (*p != '\\') return 0;  /* control character or non-ASCII byte */
        *escaped = 1;
        if (++p >= end) return 0;
        if (*p == 'u') {
            if (end - p < 5 || !is_hex(p[1]) || !is_hex(p[2]) || !is_hex(p[3]) ||
                !is_hex(p[4]))
                return 0;
            if ((p[1] == 'd' || p[1] == 'D') && strchr("89abcdefABCDEF", p[2]) != NULL)
                return 0;  /* a surrogate: whether it is paired is Python's call */
            p += 5;
        } else if (strchr("\"\\/bfnrt", *p) != NULL && *p != '\0') {
            p++;
        } else {
            return 0;
        }
    }
    *text = ps->p + 1;
    *len = p - (ps->p + 1);
    ps->p = p + 1;
    return 1;
}

static int scan_digits(const char **p, const char *end) {
    const char *q = *p;
    while (q < end && *q >= '0' && *q <= '9') q++;
    int any = q > *p;
    *p = q;
    return any;
}

/* A number in JSON's grammar (no NaN, no leading zeros, no bare '.'), short enough
 * to be finite for certain (orjson refuses an infinite one: Python's call). */
static int scan_number(Parser *ps) {
    const char *p = ps->p, *end = ps->end;
    const char *exponent = NULL;
    if (p < end && *p == '-') p++;
    if (p < end && *p == '0') {
        p++;
    } else if (!scan_digits(&p, end)) {
        return 0;
    }
    if (p < end && *p == '.') {
        p++;
        if (!scan_digits(&p, end)) return 0;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        exponent = p;
        if (!scan_digits(&p, end)) return 0;
    }
    if (p - ps->p > MAX_NUMBER_LEN || (exponent != NULL && p - exponent > 2)) return 0;
    ps->p = p;
    return 1;
}

static int scan_word(Parser *ps, const char *word, Py_ssize_t len) {
    if (ps->end - ps->p < len || memcmp(ps->p, word, (size_t)len) != 0) return 0;
    ps->p += len;
    return 1;
}

/* After a member of an array or object: 1 past its ``close``, 0 past a comma, -1 for
 * anything else (decline). */
static int after_member(Parser *ps, char close) {
    skip_blank(ps);
    if (ps->p >= ps->end) return -1;
    char c = *ps->p++;
    return c == close ? 1 : c == ',' ? 0 : -1;
}

/* Any value, not kept apart: what nested arrays and objects hold; ``depth`` is the
 * level an array or object here would be at. */
static int skip_value(Parser *ps, int depth) {
    const char *text;
    Py_ssize_t len;
    int escaped;
    skip_blank(ps);
    if (ps->p >= ps->end) return 0;
    switch (*ps->p) {
    case '"':
        return scan_string(ps, &text, &len, &escaped);
    case 't':
        return scan_word(ps, "true", 4);
    case 'f':
        return scan_word(ps, "false", 5);
    case 'n':
        return scan_word(ps, "null", 4);
    case '[':
    case '{': {
        if (depth > MAX_DEPTH) return 0;
        char close = *ps->p == '[' ? ']' : '}';
        int object = close == '}';
        ps->p++;
        skip_blank(ps);
        if (ps->p < ps->end && *ps->p == close) {
            ps->p++;
            return 1;
        }
        for (;;) {
            if (object) {
                skip_blank(ps);
                if (ps->p >= ps->end || *ps->p != '"' ||
                    !scan_string(ps, &text, &len, &escaped))
                    return 0;
                skip_blank(ps);
                if (ps->p >= ps->end || *ps->p != ':') return 0;
                ps->p++;
            }
            if (!skip_value(ps, depth + 1)) return 0;
            int ended = after_member(ps, close);
            if (ended) return ended > 0;
        }
    }
    default:
        return scan_number(ps);
    }
}

static int is_key(const Field *f, const char *name, Py_ssize_t len) {
    return f->key_len == len && memcmp(f->key, name, (size_t)len) == 0;
}

/* One record: its fields appended to ps->fields. */
static int scan_record(Parser *ps) {
    if (!grow((void **)&ps->records, &ps->cap_records, ps->nrecords + 1, sizeof(Record)))
        return -1;
    Record *rec = &ps->records[ps->nrecords];
    rec->start = ps->p;
    rec->first = ps->nfields;
    rec->time = rec->id = -1;
    ps->p++;  /* '{' */
    skip_blank(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            Field f = {0};
            const char *text;
            Py_ssize_t len;
            int escaped;
            skip_blank(ps);
            if (ps->p >= ps->end || *ps->p != '"' ||
                !scan_string(ps, &f.key, &len, &escaped) || escaped || len > UINT8_MAX)
                return 0;
            f.key_len = (uint8_t)len;
            skip_blank(ps);
            if (ps->p >= ps->end || *ps->p != ':') return 0;
            ps->p++;
            skip_blank(ps);
            if (ps->p >= ps->end) return 0;
            const char *value = ps->p;
            switch (*value) {
            case '"':
                f.kind = K_STR;
                if (!scan_string(ps, &text, &len, &escaped)) return 0;
                f.val = text;
                f.val_len = (uint32_t)len;
                f.escaped = (uint8_t)escaped;
                break;
            case '[':
            case '{':
                f.kind = *value == '[' ? K_ARR : K_OBJ;
                if (!skip_value(ps, 1)) return 0;
                break;
            case 't':
                f.kind = K_TRUE;
                if (!scan_word(ps, "true", 4)) return 0;
                break;
            case 'f':
                f.kind = K_FALSE;
                if (!scan_word(ps, "false", 5)) return 0;
                break;
            case 'n':
                f.kind = K_NULL;
                if (!scan_word(ps, "null", 4)) return 0;
                break;
            default:
                f.kind = K_NUM;
                if (!scan_number(ps)) return 0;
            }
            if (f.kind != K_STR) {
                f.val = value;
                f.val_len = (uint32_t)(ps->p - value);
            }
            if (!grow((void **)&ps->fields, &ps->cap_fields, ps->nfields + 1, sizeof(Field)))
                return -1;
            if (is_key(&f, "obTime", 6)) rec->time = ps->nfields;
            else if (is_key(&f, "id", 2)) rec->id = ps->nfields;
            ps->fields[ps->nfields++] = f;
            int ended = after_member(ps, '}');
            if (ended < 0) return 0;
            if (ended) break;
        }
    }
    rec->count = ps->nfields - rec->first;
    rec->len = ps->p - rec->start;
    ps->nrecords++;
    return 1;
}

/* The whole body: one array of objects and nothing after it. 1 ok, 0 decline, -1 no memory. */
static int scan_answer(Parser *ps) {
    skip_blank(ps);
    if (ps->p >= ps->end || *ps->p != '[') return 0;
    ps->p++;
    skip_blank(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
    } else {
        for (;;) {
            skip_blank(ps);
            if (ps->p >= ps->end || *ps->p != '{') return 0;
            int ok = scan_record(ps);
            if (ok <= 0) return ok;
            int ended = after_member(ps, ']');
            if (ended < 0) return 0;
            if (ended) break;
        }
    }
    skip_blank(ps);
    return ps->p == ps->end;
}

/* A value as compact JSON (whitespace outside strings dropped) written at ``w``; in a
 * CSV cell every quote doubled. Returns the end of what it wrote. */
static char *put_compact(char *w, const char *p, Py_ssize_t len, int csv_cell) {
    const char *end = p + len;
    int in_string = 0;
    while (p < end) {
        char c = *p++;
        if (in_string && c == '\\') {
            *w++ = c;
            c = *p++;  /* scanned already: an escape is whole */
        } else if (c == '"') {
            in_string = !in_string;
        } else if (!in_string && blank[(unsigned char)c]) {
            continue;
        }
        *w++ = c;
        if (c == '"' && csv_cell) *w++ = c;
    }
    return w;
}

typedef struct {
    const char *name;
    Py_ssize_t len;
    char nested;  /* a kept record held an array or object there */
} Column;

typedef struct {
    Column items[MAX_COLUMNS];  /* the caller's columns, then the page's new keys */
    Py_ssize_t count;
    uint16_t slots[COLUMN_SLOTS];  /* column index + 1 by hash of its name; 0: free */
} Columns;

static size_t hash_name(const char *name, Py_ssize_t len) {  /* FNV-1a */
    uint32_t h = 2166136261u;
    for (Py_ssize_t i = 0; i < len; i++) h = (h ^ (unsigned char)name[i]) * 16777619u;
    return h & (COLUMN_SLOTS - 1);
}

/* The column named ``name``, or -1; ``*slot``: where it is or would go. */
static Py_ssize_t lookup_column(const Columns *cols, const char *name, Py_ssize_t len,
                                size_t *slot) {
    size_t i = hash_name(name, len);
    for (; cols->slots[i]; i = (i + 1) & (COLUMN_SLOTS - 1)) {
        const Column *c = &cols->items[cols->slots[i] - 1];
        if (c->len == len && memcmp(c->name, name, (size_t)len) == 0) break;
    }
    *slot = i;
    return (Py_ssize_t)cols->slots[i] - 1;
}

/* A new column (its name not one of them); 0 when there are MAX_COLUMNS already. */
static int add_column(Columns *cols, const char *name, Py_ssize_t len, size_t slot) {
    if (cols->count >= MAX_COLUMNS) return 0;
    cols->items[cols->count] = (Column){.name = name, .len = len, .nested = 0};
    cols->slots[slot] = (uint16_t)++cols->count;
    return 1;
}

/* The field's column (the one at ``hint`` first: records mostly keep one key order),
 * added when new; -1 when that would pass MAX_COLUMNS. */
static Py_ssize_t find_column(Columns *cols, const Field *f, Py_ssize_t hint) {
    const Column *c = cols->items;
    if (hint < cols->count && is_key(f, c[hint].name, c[hint].len)) return hint;
    size_t slot;
    Py_ssize_t found = lookup_column(cols, f->key, f->key_len, &slot);
    if (found >= 0) return found;
    return add_column(cols, f->key, f->key_len, slot) ? cols->count - 1 : -1;
}

/* What the rows' cells alone write (an empty quoted cell and its comma each), and
 * whether that passes the bound for a body of ``body_len`` bytes (top comment). */
static Py_ssize_t cell_bytes(Py_ssize_t nkept, Py_ssize_t ncolumns) {
    return nkept * (3 * ncolumns + 1);
}

static int within_output_bound(Py_ssize_t nkept, Py_ssize_t ncolumns, Py_ssize_t body_len) {
    return cell_bytes(nkept, ncolumns) <= MAX_OUTPUT_RATIO * body_len + OUTPUT_ALLOWANCE;
}

/* Every kept record's fields to columns (new keys added in order of first sight; each
 * field's ``column``); returns a bound on the bytes ``write_csv`` or ``write_json``
 * writes, 0 to decline (a key twice in a record; more than MAX_COLUMNS columns; an
 * escape in a plain string of a CSV row; CSV cells past the output bound). One hash
 * lookup a field at most: time linear in the kept records' size. */
static Py_ssize_t map_columns(Parser *ps, const Py_ssize_t *kept, Py_ssize_t nkept,
                              Columns *cols, int csv, Py_ssize_t body_len) {
    Py_ssize_t used[MAX_COLUMNS];  /* the last record (k + 1) that used each column */
    Py_ssize_t bytes = 1;
    memset(used, 0, sizeof(used));
    for (Py_ssize_t k = 0; k < nkept; k++) {
        const Record *rec = &ps->records[kept[k]];
        for (Py_ssize_t j = 0; j < rec->count; j++) {
            Field *f = &ps->fields[rec->first + j];
            Py_ssize_t c = find_column(cols, f, j);
            if (c < 0) return 0;
            if (used[c] == k + 1) return 0;  /* the key twice in this record */
            used[c] = k + 1;
            f->column = (uint16_t)c;
            if (csv && f->kind == K_STR && f->escaped) return 0;
            if (f->kind == K_ARR || f->kind == K_OBJ) cols->items[c].nested = 1;
        }
        bytes += (csv ? 2 : 1) * rec->len + 1;  /* CSV: quotes doubled at most */
    }
    if (!csv) return bytes;
    if (!within_output_bound(nkept, cols->count, body_len)) return 0;
    return bytes + cell_bytes(nkept, cols->count);  /* commas and "" for absent keys */
}

/* One CSV row per kept record, one cell per column, written at ``w``; the end of what it
 * wrote, or NULL for no memory. */
static char *write_csv(const Parser *ps, const Py_ssize_t *kept, Py_ssize_t nkept,
                       const Columns *cols, char *w) {
    Py_ssize_t *slot = PyMem_RawMalloc(sizeof(Py_ssize_t) * (size_t)(cols->count + 1));
    if (slot == NULL) return NULL;
    for (Py_ssize_t k = 0; k < nkept; k++) {
        const Record *rec = &ps->records[kept[k]];
        for (Py_ssize_t c = 0; c < cols->count; c++) slot[c] = -1;
        for (Py_ssize_t j = rec->first; j < rec->first + rec->count; j++)
            slot[ps->fields[j].column] = j;
        for (Py_ssize_t c = 0; c < cols->count; c++) {
            if (c) *w++ = ',';
            const Field *f = slot[c] < 0 ? NULL : &ps->fields[slot[c]];
            if (f == NULL || f->kind == K_NULL) {  /* an empty quoted cell, as csvrows writes */
                *w++ = '"';
                *w++ = '"';
                continue;
            }
            switch (f->kind) {
            case K_STR:
                *w++ = '"';
                memcpy(w, f->val, f->val_len);
                w += f->val_len;
                *w++ = '"';
                break;
            case K_ARR:
            case K_OBJ:
                *w++ = '"';
                w = put_compact(w, f->val, f->val_len, 1);
                *w++ = '"';
                break;
            default:
                memcpy(w, f->val, f->val_len);
                w += f->val_len;
            }
        }
        *w++ = '\n';
    }
    PyMem_RawFree(slot);
    return w;
}

/* The kept records compact, joined by commas (the artifact adds the brackets), written
 * at ``w``; the end of what it wrote. */
static char *write_json(const Parser *ps, const Py_ssize_t *kept, Py_ssize_t nkept, char *w) {
    for (Py_ssize_t k = 0; k < nkept; k++) {
        const Record *rec = &ps->records[kept[k]];
        if (k) *w++ = ',';
        w = put_compact(w, rec->start, rec->len, 0);
    }
    return w;
}

static int canonical(const Field *f) {
    return f->kind == K_STR && !f->escaped && f->val_len == CANONICAL_LEN &&
           f->val[19] == '.' && f->val[23] == 'Z';
}

/* Records in [lo, hi) by obTime, in time order; 1 ok, 0 decline. */
static int cut_window(const Parser *ps, const char *lo, const char *hi, Py_ssize_t *kept,
                      Py_ssize_t *nkept) {
    const char *previous = NULL;
    *nkept = 0;
    for (Py_ssize_t r = 0; r < ps->nrecords; r++) {
        const Record *rec = &ps->records[r];
        if (rec->time < 0) return 0;
        const Field *t = &ps->fields[rec->time];
        if (!canonical(t)) return 0;
        if (memcmp(lo, t->val, CANONICAL_LEN) > 0 || memcmp(t->val, hi, CANONICAL_LEN) >= 0)
            continue;
        if (previous != NULL && memcmp(previous, t->val, CANONICAL_LEN) > 0) return 0;
        previous = t->val;
        kept[(*nkept)++] = r;
    }
    return 1;
}

/* Drops kept records whose id is in ``seen``; lists the ids of the others when asked.
 * 1 ok, 0 decline, -1 a Python error. Needs the GIL. */
static int filter_ids(const Parser *ps, Py_ssize_t *kept, Py_ssize_t *nkept, PyObject *seen,
                      PyObject *ids, Py_ssize_t *repeated) {
    Py_ssize_t w = 0;
    int check = PySet_GET_SIZE(seen) > 0;
    *repeated = 0;
    for (Py_ssize_t k = 0; k < *nkept; k++) {
        const Record *rec = &ps->records[kept[k]];
        const Field *f = rec->id < 0 ? NULL : &ps->fields[rec->id];
        if (f == NULL || f->kind == K_NULL) {
            kept[w++] = kept[k];
            continue;
        }
        if (f->kind != K_STR || f->escaped) return 0;
        PyObject *id = PyUnicode_FromStringAndSize(f->val, f->val_len);
        if (id == NULL) return -1;
        int known = check ? PySet_Contains(seen, id) : 0;
        if (known < 0 || (!known && ids != NULL && PyList_Append(ids, id) < 0)) {
            Py_DECREF(id);
            return -1;
        }
        Py_DECREF(id);
        if (known) {
            (*repeated)++;
        } else {
            kept[w++] = kept[k];
        }
    }
    *nkept = w;
    return 1;
}

/* The caller's columns (their names stay owned by the ``names`` tuple; at most
 * MAX_COLUMNS, checked before); 1 ok, 0 decline (a name twice), -1 a Python error. */
static int load_columns(PyObject *names, Columns *cols) {
    for (Py_ssize_t i = 0, n = PyTuple_GET_SIZE(names); i < n; i++) {
        Py_ssize_t len;
        size_t slot;
        const char *text = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(names, i), &len);
        if (text == NULL) return -1;
        if (lookup_column(cols, text, len, &slot) >= 0) return 0;
        add_column(cols, text, len, slot);
    }
    return 1;
}

static PyObject *column_names(const Columns *cols, int only_nested) {
    PyObject *names = PyList_New(0);
    if (names == NULL) return NULL;
    for (Py_ssize_t i = 0; i < cols->count; i++) {
        if (only_nested && !cols->items[i].nested) continue;
        PyObject *name = PyUnicode_DecodeUTF8(cols->items[i].name, cols->items[i].len, NULL);
        if (name == NULL || PyList_Append(names, name) < 0) {
            Py_XDECREF(name);
            Py_DECREF(names);
            return NULL;
        }
        Py_DECREF(name);
    }
    PyObject *tuple = PyList_AsTuple(names);
    Py_DECREF(names);
    return tuple;
}

PyDoc_STRVAR(transcode_doc,
"transcode(body, lo, hi, names, seen, ids_from, csv)\n--\n\n"
"The window [lo, hi) of one answer page, encoded; None to leave the page to Python.\n\n"
"Returns (answered, kept, data, ids, names, nested, repeated): the answer's record\n"
"count, the records kept (in the window, not in ``seen``), their CSV rows or JSON\n"
"records, their ids (a list, when the answer holds at least ``ids_from``) or None,\n"
"the columns the rows use (``names``, then new keys) and those where a kept record\n"
"holds a nested value (CSV), and the records dropped as already seen.");

static PyObject *transcode(PyObject *Py_UNUSED(self), PyObject *args) {
    Py_buffer body;
    const char *lo, *hi;
    Py_ssize_t lo_len, hi_len;
    PyObject *names, *seen;
    Py_ssize_t ids_from;
    int csv;
    if (!PyArg_ParseTuple(args, "y*s#s#O!O!np", &body, &lo, &lo_len, &hi, &hi_len,
                          &PyTuple_Type, &names, &PyFrozenSet_Type, &seen, &ids_from, &csv))
        return NULL;
    PyObject *result = NULL, *ids = NULL, *data = NULL;
    Parser ps = {.p = body.buf, .end = (const char *)body.buf + body.len};
    Columns *cols = NULL;  /* 10 KB: on the heap */
    Py_ssize_t *kept = NULL, nkept = 0, repeated = 0;
    int ok;
    if (lo_len != CANONICAL_LEN || hi_len != CANONICAL_LEN) {
        PyErr_SetString(PyExc_ValueError, "window bounds must be UDL's 24-character form");
        goto done;
    }
    if (body.len >= UINT32_MAX || PyTuple_GET_SIZE(names) > MAX_COLUMNS) goto done;
    Py_BEGIN_ALLOW_THREADS
    /* sized for REACH's records (~780 bytes, 25 fields): no regrowth on a typical page */
    ok = grow((void **)&ps.fields, &ps.cap_fields, body.len / 24 + 64, sizeof(Field)) &&
         grow((void **)&ps.records, &ps.cap_records, body.len / 512 + 16, sizeof(Record))
             ? scan_answer(&ps) : -1;
    if (ok > 0) {
        kept = PyMem_RawMalloc(sizeof(Py_ssize_t) * (size_t)(ps.nrecords + 1));
        ok = kept == NULL ? -1 : cut_window(&ps, lo, hi, kept, &nkept);
    }
    Py_END_ALLOW_THREADS
    if (ok < 0) PyErr_NoMemory();
    if (ok <= 0) goto done;
    int want_ids = ps.nrecords >= ids_from;
    if (want_ids && (ids = PyList_New(0)) == NULL) goto done;
    if (want_ids || PySet_GET_SIZE(seen) > 0) {
        ok = filter_ids(&ps, kept, &nkept, seen, ids, &repeated);
        if (ok <= 0) goto done;
    }
    if ((cols = PyMem_RawCalloc(1, sizeof(Columns))) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (load_columns(names, cols) <= 0) goto done;
    Py_ssize_t bound = 1;
    if (nkept) {
        Py_BEGIN_ALLOW_THREADS
        bound = map_columns(&ps, kept, nkept, cols, csv, body.len);
        Py_END_ALLOW_THREADS
    }
    if (bound <= 0) goto done;  /* 0: declined (map_columns allocates nothing) */
    /* the rows go straight into the bytes object, then it is cut to their length */
    if ((data = PyBytes_FromStringAndSize(NULL, bound)) == NULL) goto done;
    char *start = PyBytes_AS_STRING(data), *end = start;
    if (nkept) {
        Py_BEGIN_ALLOW_THREADS
        end = csv ? write_csv(&ps, kept, nkept, cols, start) : write_json(&ps, kept, nkept, start);
        Py_END_ALLOW_THREADS
        if (end == NULL) {
            PyErr_NoMemory();
            goto done;
        }
    }
    if (_PyBytes_Resize(&data, end - start) < 0) goto done;
    {
        PyObject *all = column_names(cols, 0);
        PyObject *held = all == NULL ? NULL : column_names(cols, 1);
        if (all != NULL && held != NULL)
            result = Py_BuildValue("nnOOOOn", ps.nrecords, nkept, data, ids ? ids : Py_None,
                                   all, held, repeated);
        Py_XDECREF(all);
        Py_XDECREF(held);
    }
done:
    if (result == NULL && !PyErr_Occurred()) result = Py_NewRef(Py_None);
    Py_XDECREF(ids);
    Py_XDECREF(data);
    PyMem_RawFree(ps.fields);
    PyMem_RawFree(ps.records);
    PyMem_RawFree(kept);
    PyMem_RawFree(cols);
    PyBuffer_Release(&body);
    return result;
}

static PyMethodDef methods[] = {
    {"transcode", transcode, METH_VARARGS, transcode_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "_transcode",
    .m_doc = "One UDL answer page -> the window's CSV rows or JSON records, in C (see pages.py).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__transcode(void) {
    init_tables();
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    /* the bounds, for pagebounds.py's test: both paths must use the same numbers */
    if (PyModule_AddIntConstant(m, "MAX_COLUMNS", MAX_COLUMNS) < 0 ||
        PyModule_AddIntConstant(m, "MAX_DEPTH", MAX_DEPTH) < 0 ||
        PyModule_AddIntConstant(m, "MAX_OUTPUT_RATIO", MAX_OUTPUT_RATIO) < 0 ||
        PyModule_AddIntConstant(m, "OUTPUT_ALLOWANCE", OUTPUT_ALLOWANCE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
