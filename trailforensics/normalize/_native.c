/* Column building for the normaliser, in C: the parts of turning decoded records into Arrow
 * buffers that cost a Python object per value.
 *
 * Every function here has a Python twin in trailforensics/normalize/fields.py (the reference);
 * tests/test_native.py checks that both give the same bytes.  Any value these functions do not
 * expect raises, and the caller then takes the Python path for the whole file, so an odd input
 * can never get a different row from this module.
 *
 *   gather(objs, path)            -> list: objs[i].a.b... (None stops the walk)
 *   strings(objs, paths)          -> [(validity | None, int32 offsets, data, null_count)]
 *   raws(objs, names)             -> (int64 offsets, data): buffer values, column after column
 *   json_list(offsets, data, lo, hi) -> b"[v_lo,...,v_hi-1]" (a value not starting with '{' -> {})
 *   blake2b16(offsets, data, n, offset) -> n * 16 bytes: BLAKE2b-128 of each value
 *   blake2b16_join(parts, n, sep) -> n * 16 bytes: BLAKE2b-128 of each row's parts joined by sep
 *                                    (a NULL part as ""), without building the joined text
 *   iso_micros(offsets, data, n, offset) -> (int64 micros, uint8 ok): YYYY-MM-DDTHH:MM:SSZ
 *   encoded_length(objs, layout)  -> len(msgspec.json.encode(objs)) without encoding them
 *   identities(offsets, data, lo, hi) -> the flat userIdentity columns, read off the raw JSON
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h> /* PyMemberDef (in Python.h from 3.12) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifndef Py_T_OBJECT_EX
#define Py_T_OBJECT_EX 16
#endif
#ifndef Py_T_OBJECT
#define Py_T_OBJECT 6
#endif

/* ---------------------------------------------------------------- attribute walks */

/* One level of a path: its name, and the slot offset of the last type seen there.  msgspec
 * Structs keep their fields in slots (member descriptors): reading the slot directly skips the
 * attribute lookup, which is most of the cost.  Any other object takes PyObject_GetAttr. */
typedef struct {
    PyObject *name;
    PyTypeObject *type;
    Py_ssize_t offset; /* -1: no slot for this type */
} Step;

static void step_resolve(Step *s, PyTypeObject *tp) {
    s->type = tp;
    s->offset = -1;
    PyObject *descr = _PyType_Lookup(tp, s->name); /* borrowed */
    if (descr != NULL && Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
        if ((m->type == Py_T_OBJECT_EX || m->type == Py_T_OBJECT) && !(m->flags & 0x2 /* READ_RESTRICTED */))
            s->offset = m->offset;
    }
}

/* New reference to obj.<step>, or NULL with an exception set. */
static PyObject *step_get(Step *s, PyObject *obj) {
    PyTypeObject *tp = Py_TYPE(obj);
    if (tp != s->type) step_resolve(s, tp);
    if (s->offset >= 0) {
        PyObject *v = *(PyObject **)((char *)obj + s->offset);
        if (v == NULL) {
            PyErr_Format(PyExc_AttributeError, "attribute %U is not set", s->name);
            return NULL;
        }
        Py_INCREF(v);
        return v;
    }
    return PyObject_GetAttr(obj, s->name);
}

static int path_init(PyObject *path, Step *steps, Py_ssize_t max_depth, Py_ssize_t *depth) {
    if (!PyTuple_Check(path)) {
        PyErr_SetString(PyExc_TypeError, "a path is a tuple of attribute names");
        return -1;
    }
    Py_ssize_t d = PyTuple_GET_SIZE(path);
    if (d < 1 || d > max_depth) {
        PyErr_SetString(PyExc_ValueError, "path depth out of range");
        return -1;
    }
    for (Py_ssize_t j = 0; j < d; j++) {
        PyObject *name = PyTuple_GET_ITEM(path, j);
        if (!PyUnicode_Check(name)) {
            PyErr_SetString(PyExc_TypeError, "attribute names are str");
            return -1;
        }
        steps[j].name = name;
        steps[j].type = NULL;
        steps[j].offset = -1;
    }
    *depth = d;
    return 0;
}

/* New reference to the value at the end of the path (None when a level is None). */
static PyObject *walk(Step *steps, Py_ssize_t depth, PyObject *obj) {
    Py_INCREF(obj);
    for (Py_ssize_t j = 0; j < depth; j++) {
        if (obj == Py_None) return obj;
        PyObject *next = step_get(&steps[j], obj);
        Py_DECREF(obj);
        if (next == NULL) return NULL;
        obj = next;
    }
    return obj;
}

#define MAX_DEPTH 8

static PyObject *gather(PyObject *self, PyObject *args) {
    PyObject *objs, *path;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &objs, &PyTuple_Type, &path)) return NULL;
    Step steps[MAX_DEPTH];
    Py_ssize_t depth;
    if (path_init(path, steps, MAX_DEPTH, &depth) < 0) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(objs);
    PyObject *out = PyList_New(n);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = walk(steps, depth, PyList_GET_ITEM(objs, i));
        if (v == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, i, v);
    }
    return out;
}

/* ---------------------------------------------------------------- growable buffer */

typedef struct {
    char *p;
    Py_ssize_t len, cap;
} Buf;

static int buf_put(Buf *b, const void *src, Py_ssize_t size) {
    if (b->len + size > b->cap) {
        Py_ssize_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + size) cap *= 2;
        char *p = PyMem_Realloc(b->p, cap);
        if (p == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        b->p = p;
        b->cap = cap;
    }
    if (size) memcpy(b->p + b->len, src, size);
    b->len += size;
    return 0;
}

static PyObject *buf_bytes(Buf *b) {
    PyObject *r = PyBytes_FromStringAndSize(b->p ? b->p : "", b->len);
    PyMem_Free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    return r;
}

/* ---------------------------------------------------------------- strings */

static PyObject *string_column(PyObject *objs, PyObject *path) {
    Step steps[MAX_DEPTH];
    Py_ssize_t depth;
    if (path_init(path, steps, MAX_DEPTH, &depth) < 0) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(objs);
    PyObject *offsets = PyBytes_FromStringAndSize(NULL, (n + 1) * 4);
    PyObject *validity = PyBytes_FromStringAndSize(NULL, (n + 7) / 8);
    Buf data = {NULL, 0, 0};
    if (offsets == NULL || validity == NULL) goto fail;
    int32_t *off = (int32_t *)PyBytes_AS_STRING(offsets);
    uint8_t *bits = (uint8_t *)PyBytes_AS_STRING(validity);
    memset(bits, 0, (n + 7) / 8);
    Py_ssize_t nulls = 0;
    off[0] = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = walk(steps, depth, PyList_GET_ITEM(objs, i));
        if (v == NULL) goto fail;
        if (v == Py_None) {
            nulls++;
        } else if (PyUnicode_CheckExact(v)) {
            Py_ssize_t size;
            const char *s = PyUnicode_AsUTF8AndSize(v, &size);
            if (s == NULL || buf_put(&data, s, size) < 0) {
                Py_DECREF(v);
                goto fail;
            }
            bits[i >> 3] |= (uint8_t)(1u << (i & 7));
        } else {
            PyErr_Format(PyExc_TypeError, "not a str: %R", v);
            Py_DECREF(v);
            goto fail;
        }
        Py_DECREF(v);
        if (data.len > INT32_MAX) {
            PyErr_SetString(PyExc_OverflowError, "string column over 2 GiB");
            goto fail;
        }
        off[i + 1] = (int32_t)data.len;
    }
    PyObject *body = buf_bytes(&data);
    if (body == NULL) goto fail;
    if (nulls == 0) {
        Py_DECREF(validity);
        validity = Py_NewRef(Py_None);
    }
    return Py_BuildValue("(NNNn)", validity, offsets, body, nulls);
fail:
    Py_XDECREF(offsets);
    Py_XDECREF(validity);
    PyMem_Free(data.p);
    return NULL;
}

static PyObject *strings(PyObject *self, PyObject *args) {
    PyObject *objs, *paths;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &objs, &PyTuple_Type, &paths)) return NULL;
    Py_ssize_t k = PyTuple_GET_SIZE(paths);
    PyObject *out = PyList_New(k);
    if (out == NULL) return NULL;
    for (Py_ssize_t c = 0; c < k; c++) {
        PyObject *col = string_column(objs, PyTuple_GET_ITEM(paths, c));
        if (col == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, c, col);
    }
    return out;
}

/* ---------------------------------------------------------------- raw JSON values */

static PyObject *raws(PyObject *self, PyObject *args) {
    PyObject *objs, *names;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &objs, &PyTuple_Type, &names)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(objs), k = PyTuple_GET_SIZE(names);
    PyObject *offsets = PyBytes_FromStringAndSize(NULL, (n * k + 1) * 8);
    if (offsets == NULL) return NULL;
    int64_t *off = (int64_t *)PyBytes_AS_STRING(offsets);
    Buf data = {NULL, 0, 0};
    off[0] = 0;
    for (Py_ssize_t c = 0; c < k; c++) {
        Step step;
        Py_ssize_t depth;
        PyObject *one = PyTuple_Pack(1, PyTuple_GET_ITEM(names, c));
        if (one == NULL) goto fail;
        int bad = path_init(one, &step, 1, &depth);
        Py_DECREF(one);
        if (bad < 0) goto fail;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *v = step_get(&step, PyList_GET_ITEM(objs, i));
            if (v == NULL) goto fail;
            Py_buffer view;
            if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) < 0) {
                Py_DECREF(v);
                goto fail;
            }
            int err = buf_put(&data, view.buf, view.len);
            PyBuffer_Release(&view);
            Py_DECREF(v);
            if (err < 0) goto fail;
            off[c * n + i + 1] = data.len;
        }
    }
    PyObject *body = buf_bytes(&data);
    if (body == NULL) goto fail;
    return Py_BuildValue("(NN)", offsets, body);
fail:
    Py_DECREF(offsets);
    PyMem_Free(data.p);
    return NULL;
}

static PyObject *json_list(PyObject *self, PyObject *args) {
    Py_buffer offs, data;
    Py_ssize_t lo, hi;
    if (!PyArg_ParseTuple(args, "y*y*nn", &offs, &data, &lo, &hi)) return NULL;
    PyObject *result = NULL;
    const int64_t *off = (const int64_t *)offs.buf;
    Py_ssize_t count = offs.len / 8 - 1;
    if (lo < 0 || hi < lo || hi > count) {
        PyErr_SetString(PyExc_IndexError, "json_list range");
        goto done;
    }
    Buf out = {NULL, 0, 0};
    if (buf_put(&out, "[", 1) < 0) goto done;
    for (Py_ssize_t i = lo; i < hi; i++) {
        int64_t a = off[i], b = off[i + 1];
        if (a < 0 || b < a || b > data.len) {
            PyErr_SetString(PyExc_ValueError, "json_list offsets");
            PyMem_Free(out.p);
            goto done;
        }
        if (i > lo && buf_put(&out, ",", 1) < 0) goto done;
        const char *s = (const char *)data.buf + a;
        int err = (b > a && s[0] == '{') ? buf_put(&out, s, b - a) : buf_put(&out, "{}", 2);
        if (err < 0) goto done;
    }
    if (buf_put(&out, "]", 1) < 0) goto done;
    result = buf_bytes(&out);
done:
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    return result;
}

/* ---------------------------------------------------------------- BLAKE2b (RFC 7693) */

typedef struct {
    uint8_t b[128];
    uint64_t h[8];
    uint64_t t[2];
    size_t c;
    size_t outlen;
} B2b;

static const uint64_t B2B_IV[8] = {0x6A09E667F3BCC908ULL, 0xBB67AE8584CAA73BULL, 0x3C6EF372FE94F82BULL,
                                   0xA54FF53A5F1D36F1ULL, 0x510E527FADE682D1ULL, 0x9B05688C2B3E6C1FULL,
                                   0x1F83D9ABFB41BD6BULL, 0x5BE0CD19137E2179ULL};

static const uint8_t B2B_SIGMA[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4}, {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13}, {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11}, {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5}, {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

#define ROTR64(x, y) (((x) >> (y)) ^ ((x) << (64 - (y))))
#define B2B_G(a, b, c, d, x, y)         \
    do {                                \
        v[a] = v[a] + v[b] + (x);       \
        v[d] = ROTR64(v[d] ^ v[a], 32); \
        v[c] = v[c] + v[d];             \
        v[b] = ROTR64(v[b] ^ v[c], 24); \
        v[a] = v[a] + v[b] + (y);       \
        v[d] = ROTR64(v[d] ^ v[a], 16); \
        v[c] = v[c] + v[d];             \
        v[b] = ROTR64(v[b] ^ v[c], 63); \
    } while (0)

static uint64_t load64(const uint8_t *p) {
    return (uint64_t)p[0] | ((uint64_t)p[1] << 8) | ((uint64_t)p[2] << 16) | ((uint64_t)p[3] << 24) |
           ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) | ((uint64_t)p[6] << 48) | ((uint64_t)p[7] << 56);
}

static void b2b_compress(B2b *ctx, int last) {
    uint64_t v[16], m[16];
    for (int i = 0; i < 8; i++) {
        v[i] = ctx->h[i];
        v[i + 8] = B2B_IV[i];
    }
    v[12] ^= ctx->t[0];
    v[13] ^= ctx->t[1];
    if (last) v[14] = ~v[14];
    for (int i = 0; i < 16; i++) m[i] = load64(&ctx->b[8 * i]);
    for (int i = 0; i < 12; i++) {
        const uint8_t *s = B2B_SIGMA[i];
        B2B_G(0, 4, 8, 12, m[s[0]], m[s[1]]);
        B2B_G(1, 5, 9, 13, m[s[2]], m[s[3]]);
        B2B_G(2, 6, 10, 14, m[s[4]], m[s[5]]);
        B2B_G(3, 7, 11, 15, m[s[6]], m[s[7]]);
        B2B_G(0, 5, 10, 15, m[s[8]], m[s[9]]);
        B2B_G(1, 6, 11, 12, m[s[10]], m[s[11]]);
        B2B_G(2, 7, 8, 13, m[s[12]], m[s[13]]);
        B2B_G(3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; i++) ctx->h[i] ^= v[i] ^ v[i + 8];
}

static void b2b_init(B2b *ctx, size_t outlen) {
    for (int i = 0; i < 8; i++) ctx->h[i] = B2B_IV[i];
    ctx->h[0] ^= 0x01010000ULL ^ (uint64_t)outlen; /* no key */
    ctx->t[0] = ctx->t[1] = 0;
    ctx->c = 0;
    ctx->outlen = outlen;
}

static void b2b_update(B2b *ctx, const uint8_t *in, size_t len) {
    while (len > 0) {
        if (ctx->c == 128) { /* the buffer is full and more input follows: not the last block */
            ctx->t[0] += 128;
            if (ctx->t[0] < 128) ctx->t[1]++;
            b2b_compress(ctx, 0);
            ctx->c = 0;
        }
        size_t take = 128 - ctx->c;
        if (take > len) take = len;
        memcpy(ctx->b + ctx->c, in, take);
        ctx->c += take;
        in += take;
        len -= take;
    }
}

static void b2b_final(B2b *ctx, uint8_t *out) {
    ctx->t[0] += ctx->c;
    if (ctx->t[0] < ctx->c) ctx->t[1]++;
    memset(ctx->b + ctx->c, 0, 128 - ctx->c);
    b2b_compress(ctx, 1);
    for (size_t i = 0; i < ctx->outlen; i++) out[i] = (uint8_t)(ctx->h[i >> 3] >> (8 * (i & 7)));
}

/* Checks an Arrow int32 offsets buffer against its data buffer for rows [offset, offset + n). */
static int offsets_ok(const Py_buffer *offs, const Py_buffer *data, Py_ssize_t n, Py_ssize_t offset) {
    if (n < 0 || offset < 0 || (offset + n + 1) * 4 > offs->len) {
        PyErr_SetString(PyExc_ValueError, "offsets buffer too short");
        return 0;
    }
    const int32_t *off = (const int32_t *)offs->buf + offset;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (off[i] < 0 || off[i + 1] < off[i] || off[i + 1] > data->len) {
            PyErr_SetString(PyExc_ValueError, "offsets out of range");
            return 0;
        }
    }
    return 1;
}

/* BLAKE2b-128 of many messages, four at a time: each AVX2 lane hashes its own message (the
 * scalar compression's operations, on four states at once).  A lane that finishes takes the
 * next message, so lanes stay busy whatever the lengths.  Where the CPU has no AVX2, or
 * TRAILFORENSICS_NO_AVX2=1, the scalar code runs; tests/test_native.py checks both against
 * hashlib. */
static int use_avx2 = 0;

static void b2b_many_scalar(const uint8_t *base, const Py_ssize_t *starts, const Py_ssize_t *lens, Py_ssize_t n,
                            uint8_t *out) {
    for (Py_ssize_t i = 0; i < n; i++) {
        B2b ctx;
        b2b_init(&ctx, 16);
        b2b_update(&ctx, base + starts[i], (size_t)lens[i]);
        b2b_final(&ctx, out + 16 * i);
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX2_PATH 1

__attribute__((target("avx2"))) static void b2b_many_avx2(const uint8_t *base, const Py_ssize_t *starts,
                                                          const Py_ssize_t *lens, Py_ssize_t n, uint8_t *out) {
    const __m256i rot24 = _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3, 4, 5, 6, 7, 0, 1, 2,
                                           11, 12, 13, 14, 15, 8, 9, 10);
    const __m256i rot16 = _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2, 3, 4, 5, 6, 7, 0, 1,
                                           10, 11, 12, 13, 14, 15, 8, 9);
    uint64_t H[8][4] __attribute__((aligned(32)));
    uint64_t M[16][4] __attribute__((aligned(32)));
    uint64_t T[4] __attribute__((aligned(32))), F[4] __attribute__((aligned(32)));
    uint8_t pad[4][128];
    Py_ssize_t row[4], pos[4], next = 0;
    int active = 0;
    for (int j = 0; j < 4; j++) {
        row[j] = -1;
        if (next < n) {
            row[j] = next++;
            pos[j] = 0;
            for (int w = 0; w < 8; w++) H[w][j] = B2B_IV[w];
            H[0][j] ^= 0x01010000ULL ^ 16;
            active++;
        }
    }
    while (active) {
        int final[4] = {0, 0, 0, 0};
        for (int j = 0; j < 4; j++) {
            const uint8_t *block;
            if (row[j] < 0) {
                memset(pad[j], 0, 128);
                block = pad[j];
                T[j] = 0;
                F[j] = 0;
            } else {
                Py_ssize_t left = lens[row[j]] - pos[j];
                if (left > 128) {
                    block = base + starts[row[j]] + pos[j];
                    T[j] = (uint64_t)(pos[j] + 128);
                    F[j] = 0;
                } else {
                    memset(pad[j], 0, 128);
                    if (left > 0) memcpy(pad[j], base + starts[row[j]] + pos[j], (size_t)left);
                    block = pad[j];
                    T[j] = (uint64_t)lens[row[j]];
                    F[j] = ~0ULL;
                    final[j] = 1;
                }
            }
            for (int w = 0; w < 16; w++) M[w][j] = load64(block + 8 * w);
        }
        __m256i v[16], m[16];
        for (int w = 0; w < 16; w++) m[w] = _mm256_load_si256((const __m256i *)M[w]);
        for (int w = 0; w < 8; w++) {
            v[w] = _mm256_load_si256((const __m256i *)H[w]);
            v[w + 8] = _mm256_set1_epi64x((long long)B2B_IV[w]);
        }
        v[12] = _mm256_xor_si256(v[12], _mm256_load_si256((const __m256i *)T));
        v[14] = _mm256_xor_si256(v[14], _mm256_load_si256((const __m256i *)F));
#define VG(a, b, c, d, x, y)                                                                            \
    do {                                                                                                \
        v[a] = _mm256_add_epi64(_mm256_add_epi64(v[a], v[b]), (x));                                     \
        v[d] = _mm256_shuffle_epi32(_mm256_xor_si256(v[d], v[a]), _MM_SHUFFLE(2, 3, 0, 1));             \
        v[c] = _mm256_add_epi64(v[c], v[d]);                                                            \
        v[b] = _mm256_shuffle_epi8(_mm256_xor_si256(v[b], v[c]), rot24);                                \
        v[a] = _mm256_add_epi64(_mm256_add_epi64(v[a], v[b]), (y));                                     \
        v[d] = _mm256_shuffle_epi8(_mm256_xor_si256(v[d], v[a]), rot16);                                \
        v[c] = _mm256_add_epi64(v[c], v[d]);                                                            \
        v[b] = _mm256_xor_si256(v[b], v[c]);                                                            \
        v[b] = _mm256_xor_si256(_mm256_srli_epi64(v[b], 63), _mm256_add_epi64(v[b], v[b]));             \
    } while (0)
        for (int r = 0; r < 12; r++) {
            const uint8_t *sg = B2B_SIGMA[r];
            VG(0, 4, 8, 12, m[sg[0]], m[sg[1]]);
            VG(1, 5, 9, 13, m[sg[2]], m[sg[3]]);
            VG(2, 6, 10, 14, m[sg[4]], m[sg[5]]);
            VG(3, 7, 11, 15, m[sg[6]], m[sg[7]]);
            VG(0, 5, 10, 15, m[sg[8]], m[sg[9]]);
            VG(1, 6, 11, 12, m[sg[10]], m[sg[11]]);
            VG(2, 7, 8, 13, m[sg[12]], m[sg[13]]);
            VG(3, 4, 9, 14, m[sg[14]], m[sg[15]]);
        }
#undef VG
        for (int w = 0; w < 8; w++) {
            __m256i h = _mm256_load_si256((const __m256i *)H[w]);
            _mm256_store_si256((__m256i *)H[w], _mm256_xor_si256(h, _mm256_xor_si256(v[w], v[w + 8])));
        }
        for (int j = 0; j < 4; j++) {
            if (row[j] < 0) continue;
            if (!final[j]) {
                pos[j] += 128;
                continue;
            }
            uint8_t *dst = out + 16 * row[j];
            for (int b = 0; b < 16; b++) dst[b] = (uint8_t)(H[b >> 3][j] >> (8 * (b & 7)));
            if (next < n) {
                row[j] = next++;
                pos[j] = 0;
                for (int w = 0; w < 8; w++) H[w][j] = B2B_IV[w];
                H[0][j] ^= 0x01010000ULL ^ 16;
            } else {
                row[j] = -1;
                active--;
            }
        }
    }
}
#endif

static void b2b_many(const uint8_t *base, const Py_ssize_t *starts, const Py_ssize_t *lens, Py_ssize_t n,
                     uint8_t *out) {
#ifdef HAVE_AVX2_PATH
    if (use_avx2 && n >= 4) {
        b2b_many_avx2(base, starts, lens, n, out);
        return;
    }
#endif
    b2b_many_scalar(base, starts, lens, n, out);
}

static PyObject *blake2b_path(PyObject *self, PyObject *unused) {
    return PyUnicode_FromString(use_avx2 ? "avx2" : "portable");
}

static PyObject *blake2b16(PyObject *self, PyObject *args) {
    Py_buffer offs, data;
    Py_ssize_t n, offset;
    if (!PyArg_ParseTuple(args, "y*y*nn", &offs, &data, &n, &offset)) return NULL;
    PyObject *out = NULL;
    if (!offsets_ok(&offs, &data, n, offset)) goto done;
    out = PyBytes_FromStringAndSize(NULL, n * 16);
    if (out == NULL) goto done;
    uint8_t *dst = (uint8_t *)PyBytes_AS_STRING(out);
    const int32_t *off = (const int32_t *)offs.buf + offset;
    Py_ssize_t *spans = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (n ? n : 1));
    if (spans == NULL) {
        Py_CLEAR(out);
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        spans[i] = off[i];
        spans[n + i] = off[i + 1] - off[i];
    }
    Py_BEGIN_ALLOW_THREADS;
    b2b_many((const uint8_t *)data.buf, spans, spans + n, n, dst);
    Py_END_ALLOW_THREADS;
    PyMem_Free(spans);
done:
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    return out;
}

typedef struct {
    Py_buffer validity, offsets, data;
    int has_validity;
    Py_ssize_t offset;
} Part;

static PyObject *blake2b16_join(PyObject *self, PyObject *args) {
    PyObject *parts;
    Py_ssize_t n;
    Py_buffer sep;
    if (!PyArg_ParseTuple(args, "O!ny*", &PyList_Type, &parts, &n, &sep)) return NULL;
    Py_ssize_t k = PyList_GET_SIZE(parts), got = 0;
    PyObject *out = NULL;
    Part *ps = PyMem_Calloc(k ? k : 1, sizeof(Part));
    if (ps == NULL) {
        PyBuffer_Release(&sep);
        return PyErr_NoMemory();
    }
    for (; got < k; got++) { /* each part: (validity | None, int32 offsets, data, array offset) */
        PyObject *item = PyList_GET_ITEM(parts, got);
        PyObject *validity;
        Part *p = &ps[got];
        if (!PyArg_ParseTuple(item, "Oy*y*n", &validity, &p->offsets, &p->data, &p->offset)) goto done;
        p->has_validity = validity != Py_None;
        if (p->has_validity && PyObject_GetBuffer(validity, &p->validity, PyBUF_SIMPLE) < 0) {
            PyBuffer_Release(&p->offsets);
            PyBuffer_Release(&p->data);
            goto done;
        }
        if (!offsets_ok(&p->offsets, &p->data, n, p->offset) ||
            (p->has_validity && (p->offset + n + 7) / 8 > p->validity.len)) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "validity bitmap too short");
            got++;
            goto done;
        }
    }
    out = PyBytes_FromStringAndSize(NULL, n * 16);
    if (out == NULL) goto done;
    uint8_t *dst = (uint8_t *)PyBytes_AS_STRING(out);
    /* Each row's material laid out contiguously, then hashed four rows at a time. */
    Py_ssize_t total = 0;
    for (Py_ssize_t c = 0; c < k; c++) {
        const int32_t *off = (const int32_t *)ps[c].offsets.buf + ps[c].offset;
        total += off[n] - off[0];
    }
    total += (k ? k - 1 : 0) * sep.len * n;
    Py_ssize_t *spans = PyMem_Malloc(sizeof(Py_ssize_t) * 2 * (n ? n : 1));
    uint8_t *material = PyMem_Malloc(total ? total : 1);
    if (spans == NULL || material == NULL) {
        PyMem_Free(spans);
        PyMem_Free(material);
        Py_CLEAR(out);
        PyErr_NoMemory();
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS;
    Py_ssize_t at = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        spans[i] = at;
        for (Py_ssize_t c = 0; c < k; c++) {
            const Part *p = &ps[c];
            if (c) {
                memcpy(material + at, sep.buf, (size_t)sep.len);
                at += sep.len;
            }
            Py_ssize_t row = p->offset + i;
            if (p->has_validity && !((((const uint8_t *)p->validity.buf)[row >> 3] >> (row & 7)) & 1)) continue;
            const int32_t *off = (const int32_t *)p->offsets.buf + row;
            memcpy(material + at, (const uint8_t *)p->data.buf + off[0], (size_t)(off[1] - off[0]));
            at += off[1] - off[0];
        }
        spans[n + i] = at - spans[i];
    }
    b2b_many(material, spans, spans + n, n, dst);
    Py_END_ALLOW_THREADS;
    PyMem_Free(spans);
    PyMem_Free(material);
done:
    for (Py_ssize_t c = 0; c < got; c++) {
        if (ps[c].has_validity) PyBuffer_Release(&ps[c].validity);
        PyBuffer_Release(&ps[c].offsets);
        PyBuffer_Release(&ps[c].data);
    }
    PyMem_Free(ps);
    PyBuffer_Release(&sep);
    return out;
}

/* ---------------------------------------------------------------- canonical times */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static PyObject *iso_micros(PyObject *self, PyObject *args) {
    Py_buffer offs, data;
    Py_ssize_t n, offset;
    if (!PyArg_ParseTuple(args, "y*y*nn", &offs, &data, &n, &offset)) return NULL;
    PyObject *micros = NULL, *ok = NULL, *result = NULL;
    if (!offsets_ok(&offs, &data, n, offset)) goto done;
    micros = PyBytes_FromStringAndSize(NULL, n * 8);
    ok = PyBytes_FromStringAndSize(NULL, n);
    if (micros == NULL || ok == NULL) goto done;
    int64_t *us = (int64_t *)PyBytes_AS_STRING(micros);
    uint8_t *good = (uint8_t *)PyBytes_AS_STRING(ok);
    const int32_t *off = (const int32_t *)offs.buf + offset;
    static const int month_len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    static const int digit_at[14] = {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18};
    for (Py_ssize_t i = 0; i < n; i++) {
        us[i] = 0;
        good[i] = 0;
        if (off[i + 1] - off[i] != 20) continue;
        const uint8_t *s = (const uint8_t *)data.buf + off[i];
        int digits_ok = 1;
        for (int j = 0; j < 14; j++) digits_ok &= s[digit_at[j]] >= '0' && s[digit_at[j]] <= '9';
        if (!digits_ok || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
            continue;
#define D2(p) ((s[p] - '0') * 10 + (s[(p) + 1] - '0'))
        int64_t y = D2(0) * 100 + D2(2), mo = D2(5), d = D2(8), hh = D2(11), mi = D2(14), ss = D2(17);
#undef D2
        if (mo < 1 || mo > 12 || y < 1) continue;
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        int mlen = month_len[mo - 1] + (leap && mo == 2);
        if (d < 1 || d > mlen || hh > 23 || mi > 59 || ss > 59) continue;
        us[i] = ((days_from_civil(y, mo, d) * 86400) + hh * 3600 + mi * 60 + ss) * 1000000;
        good[i] = 1;
    }
    result = Py_BuildValue("(OO)", micros, ok);
done:
    Py_XDECREF(micros);
    Py_XDECREF(ok);
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    return result;
}

/* ---------------------------------------------------------------- encoded length */

/* Bytes msgspec's JSON encoder adds to a string byte: control characters become \uXXXX (5 more)
 * except \b \t \n \f \r (1 more); '"' and '\\' take a backslash (1 more). */
static uint8_t ESCAPE_EXTRA[256];

static void escape_table_init(void) {
    for (int c = 0; c < 32; c++) ESCAPE_EXTRA[c] = 5;
    ESCAPE_EXTRA['\b'] = ESCAPE_EXTRA['\t'] = ESCAPE_EXTRA['\n'] = ESCAPE_EXTRA['\f'] = ESCAPE_EXTRA['\r'] = 1;
    ESCAPE_EXTRA['"'] = ESCAPE_EXTRA['\\'] = 1;
}

enum { K_STR = 0, K_RAW = 1, K_BOOL = 2, K_STRUCT = 3 };

/* The escaping bytes of a UTF-8 string, eight bytes at a time where none needs escaping (the
 * usual case): a word is looked at byte by byte only if it holds a byte < 0x20, '"' or '\\'. */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL
#define HAS_ZERO(x) (((x) - ONES) & ~(x) & HIGHS)
static Py_ssize_t escape_extra(const unsigned char *s, Py_ssize_t size) {
    Py_ssize_t extra = 0, i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        uint64_t low = (w - 0x2020202020202020ULL) & ~w & HIGHS; /* a byte < 0x20 */
        if (low | HAS_ZERO(w ^ (ONES * '"')) | HAS_ZERO(w ^ (ONES * '\\'))) {
            for (int j = 0; j < 8; j++) extra += ESCAPE_EXTRA[s[i + j]];
        }
    }
    for (; i < size; i++) extra += ESCAPE_EXTRA[s[i]];
    return extra;
}

/* A layout, compiled once per call: a tuple of (name, kind, default, sub-layout) per field, in
 * any order; a field whose value *is* its default is omitted (msgspec's omit_defaults). */
typedef struct Layout Layout;
typedef struct {
    Step step;
    long kind;
    PyObject *dflt; /* borrowed from the layout tuple */
    Py_ssize_t name_len;
    Layout *sub;
} Field;
struct Layout {
    Py_ssize_t k;
    Field *fields;
};

static void layout_free(Layout *l) {
    if (l == NULL) return;
    for (Py_ssize_t f = 0; f < l->k; f++) layout_free(l->fields[f].sub);
    PyMem_Free(l->fields);
    PyMem_Free(l);
}

static Layout *layout_compile(PyObject *spec, int depth) {
    if (!PyTuple_Check(spec) || depth > 4) {
        PyErr_SetString(PyExc_TypeError, "a layout is a tuple of field tuples");
        return NULL;
    }
    Layout *l = PyMem_Calloc(1, sizeof(Layout));
    if (l == NULL) return (Layout *)PyErr_NoMemory();
    l->k = PyTuple_GET_SIZE(spec);
    l->fields = PyMem_Calloc(l->k ? l->k : 1, sizeof(Field));
    if (l->fields == NULL) {
        PyMem_Free(l);
        return (Layout *)PyErr_NoMemory();
    }
    for (Py_ssize_t f = 0; f < l->k; f++) {
        PyObject *item = PyTuple_GET_ITEM(spec, f);
        Field *fd = &l->fields[f];
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 4 || !PyUnicode_Check(PyTuple_GET_ITEM(item, 0))) {
            PyErr_SetString(PyExc_TypeError, "a field is (name, kind, default, sub-layout)");
            goto fail;
        }
        fd->step.name = PyTuple_GET_ITEM(item, 0);
        fd->step.type = NULL;
        fd->step.offset = -1;
        fd->kind = PyLong_AsLong(PyTuple_GET_ITEM(item, 1));
        fd->dflt = PyTuple_GET_ITEM(item, 2);
        if (PyErr_Occurred() || PyUnicode_AsUTF8AndSize(fd->step.name, &fd->name_len) == NULL) goto fail;
        if (fd->kind == K_STRUCT && (fd->sub = layout_compile(PyTuple_GET_ITEM(item, 3), depth + 1)) == NULL) goto fail;
    }
    return l;
fail:
    layout_free(l);
    return NULL;
}

static Py_ssize_t struct_length(PyObject *obj, Layout *layout) {
    Py_ssize_t total = 2, fields = 0; /* {} */
    for (Py_ssize_t f = 0; f < layout->k; f++) {
        Field *fd = &layout->fields[f];
        PyObject *v = step_get(&fd->step, obj);
        if (v == NULL) return -1;
        Py_ssize_t len = -1;
        if (v == fd->dflt) {
            Py_DECREF(v);
            continue;
        }
        if (fd->kind == K_STR && PyUnicode_CheckExact(v)) {
            Py_ssize_t size;
            const unsigned char *s = (const unsigned char *)PyUnicode_AsUTF8AndSize(v, &size);
            if (s != NULL) len = 2 + size + escape_extra(s, size);
        } else if (fd->kind == K_RAW && PyObject_CheckBuffer(v)) {
            Py_buffer view;
            if (PyObject_GetBuffer(v, &view, PyBUF_SIMPLE) == 0) {
                len = view.len;
                PyBuffer_Release(&view);
            }
        } else if (fd->kind == K_BOOL && PyBool_Check(v)) {
            len = v == Py_True ? 4 : 5;
        } else if (fd->kind == K_STRUCT && v != Py_None) {
            len = struct_length(v, fd->sub);
        } else {
            PyErr_Format(PyExc_TypeError, "field %U: unexpected %R", fd->step.name, v);
        }
        Py_DECREF(v);
        if (len < 0) return -1;
        total += fd->name_len + 3 + len; /* "name":value */
        fields++;
    }
    return total + (fields > 1 ? fields - 1 : 0);
}

static PyObject *encoded_length(PyObject *self, PyObject *args) {
    PyObject *objs, *spec;
    if (!PyArg_ParseTuple(args, "O!O!", &PyList_Type, &objs, &PyTuple_Type, &spec)) return NULL;
    Layout *layout = layout_compile(spec, 0);
    if (layout == NULL) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(objs), total = 2 + (n > 1 ? n - 1 : 0); /* [a,b] */
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t len = struct_length(PyList_GET_ITEM(objs, i), layout);
        if (len < 0) {
            layout_free(layout);
            return NULL;
        }
        total += len;
    }
    layout_free(layout);
    return PyLong_FromSsize_t(total);
}

/* ---------------------------------------------------------------- userIdentity columns */

/* The flat identity columns straight from each record's raw userIdentity JSON, as decoding it into
 * the lenient ``Identity`` structs (normalize/fast.py) and walking their fields would give them.
 * Anything those structs would treat differently, or that this reader does not handle itself (an
 * escape in a key or a wanted string, a key given twice, a wanted value of another JSON type, a
 * null where an object is expected), raises ValueError: the caller then decodes the structs. */

enum { ID_COLUMNS = 18, MFA_COLUMN = 17, NO_COL = -1 };

typedef struct {
    const char *name;
    int col;   /* string column, or NO_COL */
    int child; /* nested object table, or -1 */
} IdKey;

typedef struct {
    const IdKey *keys;
    int count;
} IdTable;

/* Column numbers follow fields.py's IDENTITY_PATHS, then mfaAuthenticated. */
static const IdKey ID_TOP[] = {{"type", 0, -1},         {"principalId", 1, -1},      {"arn", 2, -1},
                               {"accountId", 3, -1},    {"accessKeyId", 4, -1},      {"userName", 5, -1},
                               {"invokedBy", 6, -1},    {"identityProvider", 7, -1}, {"credentialId", 8, -1},
                               {"sessionContext", NO_COL, 1}};
static const IdKey ID_CONTEXT[] = {{"sessionIssuer", NO_COL, 2},
                                   {"attributes", NO_COL, 3},
                                   {"sourceIdentity", 14, -1},
                                   {"webIdFederationData", NO_COL, 4}};
static const IdKey ID_ISSUER[] = {
    {"type", 9, -1}, {"principalId", 10, -1}, {"arn", 11, -1}, {"accountId", 12, -1}, {"userName", 13, -1}};
static const IdKey ID_ATTRIBUTES[] = {{"creationDate", 15, -1}, {"mfaAuthenticated", MFA_COLUMN, -1}};
static const IdKey ID_WEB[] = {{"federatedProvider", 16, -1}};
static const IdTable ID_TABLES[] = {{ID_TOP, 10}, {ID_CONTEXT, 4}, {ID_ISSUER, 5}, {ID_ATTRIBUTES, 2}, {ID_WEB, 1}};

typedef struct {
    const char *s;
    Py_ssize_t len;
    int state; /* 0 absent, 1 string, 2 null */
} IdVal;

static const char *json_ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    return p;
}

/* Past the string at p (which is '"'); *escaped tells whether it holds a backslash. */
static const char *json_skip_string(const char *p, const char *e, int *escaped) {
    for (p++; p < e; p++) {
        if (*p == '"') return p + 1;
        if (*p == '\\') {
            *escaped = 1;
            p++;
        }
    }
    return NULL;
}

static const char *json_skip_value(const char *p, const char *e, int depth) {
    p = json_ws(p, e);
    if (p >= e || depth > 256) return NULL;
    if (*p == '"') {
        int escaped = 0;
        return json_skip_string(p, e, &escaped);
    }
    if (*p == '{' || *p == '[') {
        char open = *p, close = open == '{' ? '}' : ']';
        p = json_ws(p + 1, e);
        if (p < e && *p == close) return p + 1;
        for (;;) {
            if (open == '{') {
                int escaped = 0;
                p = json_ws(p, e);
                if (p >= e || *p != '"' || (p = json_skip_string(p, e, &escaped)) == NULL) return NULL;
                p = json_ws(p, e);
                if (p >= e || *p != ':') return NULL;
                p++;
            }
            if ((p = json_skip_value(p, e, depth + 1)) == NULL) return NULL;
            p = json_ws(p, e);
            if (p >= e) return NULL;
            if (*p == ',') {
                p++;
                continue;
            }
            return *p == close ? p + 1 : NULL;
        }
    }
    const char *start = p;
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') p++;
    return p > start ? p : NULL;
}

/* One object of table t at p ('{'): fills vals; NULL (no exception set) when it cannot. */
static const char *id_object(const char *p, const char *e, int t, IdVal *vals, int depth) {
    const IdTable *table = &ID_TABLES[t];
    unsigned seen = 0; /* keys of this table met so far */
    p = json_ws(p + 1, e);
    if (p < e && *p == '}') return p + 1;
    for (;;) {
        p = json_ws(p, e);
        if (p >= e || *p != '"') return NULL;
        const char *key = p + 1;
        int escaped = 0;
        if ((p = json_skip_string(p, e, &escaped)) == NULL || escaped) return NULL;
        Py_ssize_t key_len = p - 1 - key;
        p = json_ws(p, e);
        if (p >= e || *p != ':') return NULL;
        p = json_ws(p + 1, e);
        if (p >= e) return NULL;
        int k = 0;
        for (; k < table->count; k++) {
            if ((Py_ssize_t)strlen(table->keys[k].name) == key_len && memcmp(table->keys[k].name, key, key_len) == 0)
                break;
        }
        if (k == table->count) {
            if ((p = json_skip_value(p, e, depth + 1)) == NULL) return NULL;
        } else {
            const IdKey *want = &table->keys[k];
            if (seen & (1u << k)) return NULL; /* a key given twice */
            seen |= 1u << k;
            if (want->child >= 0) {
                if (*p != '{' || (p = id_object(p, e, want->child, vals, depth + 1)) == NULL) return NULL;
            } else if (*p == '"') {
                const char *start = p + 1;
                if ((p = json_skip_string(p, e, &escaped)) == NULL || escaped) return NULL;
                vals[want->col] = (IdVal){start, p - 1 - start, 1};
            } else if (e - p >= 4 && memcmp(p, "null", 4) == 0) {
                vals[want->col] = (IdVal){NULL, 0, 2};
                p += 4;
            } else if (want->col == MFA_COLUMN && e - p >= 4 && memcmp(p, "true", 4) == 0) {
                vals[want->col] = (IdVal){"true", 4, 1};
                p += 4;
            } else if (want->col == MFA_COLUMN && e - p >= 5 && memcmp(p, "false", 5) == 0) {
                vals[want->col] = (IdVal){"false", 5, 1};
                p += 5;
            } else {
                return NULL; /* a number, array or object where a string is wanted */
            }
        }
        p = json_ws(p, e);
        if (p >= e) return NULL;
        if (*p == ',') {
            p++;
            continue;
        }
        return *p == '}' ? p + 1 : NULL;
    }
}

static PyObject *identities(PyObject *self, PyObject *args) {
    Py_buffer offs, data;
    Py_ssize_t lo, hi;
    if (!PyArg_ParseTuple(args, "y*y*nn", &offs, &data, &lo, &hi)) return NULL;
    PyObject *result = NULL;
    const int64_t *off = (const int64_t *)offs.buf;
    Py_ssize_t count = offs.len / 8 - 1, n = hi - lo;
    Buf text[ID_COLUMNS];
    PyObject *offsets[ID_COLUMNS], *validity[ID_COLUMNS];
    Py_ssize_t nulls[ID_COLUMNS];
    memset(text, 0, sizeof(text));
    memset(offsets, 0, sizeof(offsets));
    memset(validity, 0, sizeof(validity));
    memset(nulls, 0, sizeof(nulls));
    if (lo < 0 || hi < lo || hi > count) {
        PyErr_SetString(PyExc_IndexError, "identities range");
        goto done;
    }
    for (int c = 0; c < ID_COLUMNS; c++) {
        offsets[c] = PyBytes_FromStringAndSize(NULL, (n + 1) * 4);
        validity[c] = PyBytes_FromStringAndSize(NULL, (n + 7) / 8);
        if (offsets[c] == NULL || validity[c] == NULL) goto done;
        memset(PyBytes_AS_STRING(validity[c]), 0, (n + 7) / 8);
        ((int32_t *)PyBytes_AS_STRING(offsets[c]))[0] = 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        IdVal vals[ID_COLUMNS];
        memset(vals, 0, sizeof(vals));
        int64_t a = off[lo + i], b = off[lo + i + 1];
        if (a < 0 || b < a || b > data.len) {
            PyErr_SetString(PyExc_ValueError, "identities offsets");
            goto done;
        }
        const char *s = (const char *)data.buf + a, *e = (const char *)data.buf + b;
        if (b > a && *s == '{') { /* anything else (absent, null) has no identity: all NULL */
            const char *end = id_object(s, e, 0, vals, 0);
            if (end == NULL || json_ws(end, e) != e) {
                PyErr_Format(PyExc_ValueError, "userIdentity of row %zd needs the struct decoder", i);
                goto done;
            }
        }
        for (int c = 0; c < ID_COLUMNS; c++) {
            int32_t *o = (int32_t *)PyBytes_AS_STRING(offsets[c]);
            if (vals[c].state == 1) {
                if (buf_put(&text[c], vals[c].s, vals[c].len) < 0) goto done;
                if (text[c].len > INT32_MAX) {
                    PyErr_SetString(PyExc_OverflowError, "identity column over 2 GiB");
                    goto done;
                }
                ((uint8_t *)PyBytes_AS_STRING(validity[c]))[i >> 3] |= (uint8_t)(1u << (i & 7));
            } else {
                nulls[c]++;
            }
            o[i + 1] = (int32_t)text[c].len;
        }
    }
    result = PyList_New(ID_COLUMNS);
    if (result == NULL) goto done;
    for (int c = 0; c < ID_COLUMNS; c++) {
        PyObject *body = buf_bytes(&text[c]);
        if (body == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyObject *valid = nulls[c] ? validity[c] : Py_None;
        PyObject *item = Py_BuildValue("(ONNn)", valid, offsets[c], body, nulls[c]);
        offsets[c] = NULL; /* stolen by N (released by a failed build too) */
        if (item == NULL) {
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, c, item);
    }
done:
    for (int c = 0; c < ID_COLUMNS; c++) {
        Py_XDECREF(offsets[c]);
        Py_XDECREF(validity[c]);
        PyMem_Free(text[c].p);
    }
    PyBuffer_Release(&offs);
    PyBuffer_Release(&data);
    return result;
}

/* ---------------------------------------------------------------- module */

static PyMethodDef methods[] = {
    {"gather", gather, METH_VARARGS, "gather(objs, path) -> the value at path of every object"},
    {"strings", strings, METH_VARARGS, "strings(objs, paths) -> Arrow string buffers per path"},
    {"raws", raws, METH_VARARGS, "raws(objs, names) -> (int64 offsets, data) of buffer values"},
    {"json_list", json_list, METH_VARARGS, "json_list(offsets, data, lo, hi) -> a JSON array of objects"},
    {"blake2b16", blake2b16, METH_VARARGS, "blake2b16(offsets, data, n, offset) -> 16-byte digests"},
    {"blake2b16_join", blake2b16_join, METH_VARARGS, "blake2b16_join(parts, n, sep) -> 16-byte digests"},
    {"blake2b_path", blake2b_path, METH_NOARGS, "blake2b_path() -> 'avx2' or 'portable'"},
    {"iso_micros", iso_micros, METH_VARARGS, "iso_micros(offsets, data, n, offset) -> (micros, ok)"},
    {"encoded_length", encoded_length, METH_VARARGS, "encoded_length(objs, layout) -> msgspec's JSON length"},
    {"identities", identities, METH_VARARGS, "identities(offsets, data, lo, hi) -> the flat userIdentity columns"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", "Column building in C (see fields.py).",
                                    -1, methods};

PyMODINIT_FUNC PyInit__native(void) {
    escape_table_init();
#ifdef HAVE_AVX2_PATH
    __builtin_cpu_init();
    const char *no = getenv("TRAILFORENSICS_NO_AVX2");
    use_avx2 = __builtin_cpu_supports("avx2") && !(no != NULL && no[0] == '1');
#endif
    return PyModule_Create(&module);
}
