/* The compiled paste of textrec_emnist_lines: every glyph of a batch of lines placed in one pass.
 *
 * paste_max(images, pool, offsets, glyphs, max_length) writes into `images`, a zeroed C-contiguous
 * uint8 buffer of N lines of 28 x (28 * max_length) pixels, the brighter pixel of what is there and
 * of each glyph: slot k of line n shows pool image glyphs[n, k] (a 28 x 28 uint8 image; -1 shows
 * nothing) with its left edge at column offsets[n, k]. `offsets` and `glyphs` are C-contiguous
 * int64 (N, max_length). Every index is checked before anything is written: a glyph outside the
 * pool or a slot that does not fit the line raises ValueError and leaves `images` untouched.
 *
 * Speed comes from two things numpy cannot express in one operation: each glyph row is read from
 * the pool and merged into its place in the line directly (the compiler vectorises the 28-byte
 * max), and the glyphs of the next line are prefetched while this one is pasted, so that the
 * random reads from the pool (far larger than the CPU caches) overlap instead of waiting in turn.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define SIZE 28
#define GLYPH_BYTES (SIZE * SIZE)
#define CACHE_LINE 64

#if defined(_MSC_VER) && !defined(restrict)
#define restrict __restrict
#endif

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(address) __builtin_prefetch((address), 0, 1)
#else
#define PREFETCH(address) ((void)(address))
#endif

static void prefetch_line(const uint8_t *pool, const int64_t *glyphs, Py_ssize_t max_length) {
    for (Py_ssize_t k = 0; k < max_length; k++) {
        if (glyphs[k] < 0) continue;
        const uint8_t *glyph = pool + glyphs[k] * GLYPH_BYTES;
        for (int byte = 0; byte < GLYPH_BYTES + CACHE_LINE; byte += CACHE_LINE) PREFETCH(glyph + byte);
    }
}

static void paste_line(uint8_t *restrict image, const uint8_t *restrict pool, const int64_t *offsets,
                       const int64_t *glyphs, Py_ssize_t max_length, Py_ssize_t width) {
    for (Py_ssize_t k = 0; k < max_length; k++) {
        if (glyphs[k] < 0) continue;
        const uint8_t *restrict source = pool + glyphs[k] * GLYPH_BYTES;
        uint8_t *restrict target = image + offsets[k];
        for (int y = 0; y < SIZE; y++, source += SIZE, target += width)
            for (int x = 0; x < SIZE; x++) target[x] = target[x] > source[x] ? target[x] : source[x];
    }
}

/* NULL when every slot is inside the pool and the line; otherwise the reason, for ValueError. */
static const char *check_slots(const int64_t *offsets, const int64_t *glyphs, Py_ssize_t slots,
                               Py_ssize_t pool_images, Py_ssize_t width) {
    for (Py_ssize_t i = 0; i < slots; i++) {
        if (glyphs[i] < -1 || glyphs[i] >= pool_images) return "a glyph index is outside the pool";
        if (glyphs[i] >= 0 && (offsets[i] < 0 || offsets[i] > width - SIZE)) return "a slot does not fit the line";
    }
    return NULL;
}

static PyObject *paste_max(PyObject *Py_UNUSED(module), PyObject *args) {
    Py_buffer images, pool, offsets, glyphs;
    Py_ssize_t max_length;
    if (!PyArg_ParseTuple(args, "w*y*y*y*n:paste_max", &images, &pool, &offsets, &glyphs, &max_length)) return NULL;
    PyObject *result = NULL;
    const char *problem = NULL;
    int valid_length = max_length >= 1 && max_length <= PY_SSIZE_T_MAX / GLYPH_BYTES;
    Py_ssize_t width = valid_length ? max_length * SIZE : 0, line_bytes = SIZE * width;
    Py_ssize_t count = valid_length ? offsets.len / (Py_ssize_t)sizeof(int64_t) / max_length : 0;
    if (!valid_length) problem = "max_length must be at least 1 (and fit a line in memory)";
    else if (offsets.len != count * max_length * (Py_ssize_t)sizeof(int64_t) || glyphs.len != offsets.len)
        problem = "offsets and glyphs must both be int64 (N, max_length)";
    else if (images.len != count * line_bytes) problem = "images must be uint8 (N, 28, 28 * max_length)";
    else if (pool.len % GLYPH_BYTES) problem = "the pool must be uint8 (M, 28, 28)";
    else problem = check_slots(offsets.buf, glyphs.buf, count * max_length, pool.len / GLYPH_BYTES, width);
    if (problem) {
        PyErr_SetString(PyExc_ValueError, problem);
        goto done;
    }
    Py_BEGIN_ALLOW_THREADS
    const int64_t *offset_rows = offsets.buf, *glyph_rows = glyphs.buf;
    for (Py_ssize_t line = 0; line < count; line++) {
        if (line + 1 < count) prefetch_line(pool.buf, glyph_rows + (line + 1) * max_length, max_length);
        paste_line((uint8_t *)images.buf + line * line_bytes, pool.buf, offset_rows + line * max_length,
                   glyph_rows + line * max_length, max_length, width);
    }
    Py_END_ALLOW_THREADS
    result = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&images);
    PyBuffer_Release(&pool);
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&glyphs);
    return result;
}

static PyMethodDef methods[] = {
    {"paste_max", paste_max, METH_VARARGS,
     "paste_max(images, pool, offsets, glyphs, max_length): merge each slot's glyph into the zeroed lines."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, .m_name = "_paste", .m_doc = "Compiled line paste.", .m_size = 0, .m_methods = methods,
};

PyMODINIT_FUNC PyInit__paste(void) { return PyModule_Create(&module); }
