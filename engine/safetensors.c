/* safetensors.c — a validating, memory-mapped safetensors reader.
 *
 * A safetensors file is an 8-byte little-endian header length N, N bytes of JSON describing
 * every tensor (dtype, shape, data_offsets relative to the data area), then the raw data.
 * The file may come from anywhere, so the header is treated as hostile: the JSON reader
 * (json-reader.c) is strict, allocates only what the schema needs, limits nesting, and every
 * offset and size is checked before anything is dereferenced.  The writer is
 * safetensors-write.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#ifdef G_OS_UNIX
#include <unistd.h>
#endif

#include "json-reader.h"
#include "ns-internal.h"

/* The reference implementation's limit; real headers are a few kilobytes. */
#define MAX_HEADER_BYTES ((guint64) 100000000)
#define MAX_DIMS         8

#define REDOWNLOAD_HINT \
  "Re-download it with “neural-style --download-weights”, or pass another file with --weights."

struct _NsSafetensors
{
  char          *path;
  GMappedFile   *map;
  const guint8  *data;          /* start of the data area */
  gsize          data_size;
  GArray        *tensors;       /* NsSafetensorsTensor, in file order */
  GStringChunk  *strings;       /* tensor names and dtype strings */
  GHashTable    *by_name;       /* name → index + 1 */
};

/* ---- dtypes ------------------------------------------------------------------------------ */

typedef struct
{
  const char *name;
  NsDtype     dtype;
  guint       size;
} DtypeInfo;

/* Every whole-byte dtype the format defines: files holding integer tensors (e.g. BatchNorm
 * counters) still open; only reading them as floats fails. */
static const DtypeInfo dtype_table[] = {
  { "F32", NS_DTYPE_F32, 4 },   { "F16", NS_DTYPE_F16, 2 },     { "BF16", NS_DTYPE_BF16, 2 },
  { "F64", NS_DTYPE_OTHER, 8 }, { "I64", NS_DTYPE_OTHER, 8 },   { "U64", NS_DTYPE_OTHER, 8 },
  { "I32", NS_DTYPE_OTHER, 4 }, { "U32", NS_DTYPE_OTHER, 4 },   { "I16", NS_DTYPE_OTHER, 2 },
  { "U16", NS_DTYPE_OTHER, 2 }, { "I8", NS_DTYPE_OTHER, 1 },    { "U8", NS_DTYPE_OTHER, 1 },
  { "BOOL", NS_DTYPE_OTHER, 1 }, { "F8_E4M3", NS_DTYPE_OTHER, 1 },
  { "F8_E5M2", NS_DTYPE_OTHER, 1 }, { "F8_E8M0", NS_DTYPE_OTHER, 1 }, { "C64", NS_DTYPE_OTHER, 8 },
};

static const DtypeInfo *
dtype_lookup (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (dtype_table); i++)
    if (strcmp (dtype_table[i].name, name) == 0)
      return &dtype_table[i];
  return NULL;
}

/* ---- the header schema ------------------------------------------------------------------ */

typedef struct
{
  char     *name;
  char     *dtype;
  int       n_dims;
  gint64    shape[MAX_DIMS];
  guint64   begin, end;
} RawEntry;

static void
raw_entry_clear (gpointer p)
{
  RawEntry *e = p;
  g_free (e->name);
  g_free (e->dtype);
}

/* Reads a non-negative integer for `what` of tensor `name`. */
static gboolean
read_uint (NsJsonReader *r, const char *name, const char *what, guint64 *out)
{
  NsJsonNumber kind;

  ns_json_skip_ws (r);
  if (r->p >= r->end || !(*r->p == '-' || g_ascii_isdigit (*r->p)))
    return ns_json_fail_shape (r, "%s of tensor “%s” must hold numbers", what, name);
  if (!ns_json_read_number (r, &kind, out))
    return FALSE;
  if (kind == NS_JSON_TOO_LARGE)
    return ns_json_fail (r, "%s of tensor “%s” holds a number that is too large", what, name);
  if (kind != NS_JSON_UINT)
    return ns_json_fail (r, "%s of tensor “%s” must hold non-negative integers", what, name);
  return TRUE;
}

static gboolean
read_shape (NsJsonReader *r, RawEntry *e)
{
  gboolean first = TRUE, done;

  if (!ns_json_accept (r, '['))
    return ns_json_fail_shape (r, "the shape of tensor “%s” must be an array", e->name);
  e->n_dims = 0;
  for (;;)
    {
      guint64 dim;

      if (!ns_json_array_next (r, &first, &done))
        return FALSE;
      if (done)
        return TRUE;
      if (e->n_dims == MAX_DIMS)
        return ns_json_fail (r, "tensor “%s” has more than %d dimensions", e->name, MAX_DIMS);
      if (!read_uint (r, e->name, "the shape", &dim))
        return FALSE;
      e->shape[e->n_dims++] = (gint64) dim;
    }
}

static gboolean
read_offsets (NsJsonReader *r, RawEntry *e)
{
  gboolean first = TRUE, done;
  guint64 v[2];
  int n = 0;

  if (!ns_json_accept (r, '['))
    return ns_json_fail_shape (r, "data_offsets of tensor “%s” must be an array", e->name);
  for (;;)
    {
      if (!ns_json_array_next (r, &first, &done))
        return FALSE;
      if (done)
        break;
      if (n == 2)
        return ns_json_fail (r, "data_offsets of tensor “%s” must have two numbers", e->name);
      if (!read_uint (r, e->name, "data_offsets", &v[n]))
        return FALSE;
      n++;
    }
  if (n != 2)
    return ns_json_fail (r, "data_offsets of tensor “%s” must have two numbers", e->name);
  e->begin = v[0];
  e->end = v[1];
  return TRUE;
}

/* Reads {"dtype": …, "shape": […], "data_offsets": [b, e]}; other keys are ignored, as the
 * reference implementation does. */
static gboolean
read_entry (NsJsonReader *r, RawEntry *e)
{
  gboolean first = TRUE, done;
  gboolean have_shape = FALSE, have_offsets = FALSE;

  if (!ns_json_accept (r, '{'))
    return ns_json_fail_shape (r, "the entry of tensor “%s” must be an object", e->name);
  for (;;)
    {
      g_autofree char *key = NULL;
      gboolean ok;

      if (!ns_json_object_next (r, &first, &done, &key))
        return FALSE;
      if (done)
        break;
      if (strcmp (key, "dtype") == 0)
        {
          if (e->dtype != NULL)
            return ns_json_fail (r, "tensor “%s” has two dtypes", e->name);
          ns_json_skip_ws (r);
          if (r->p >= r->end || *r->p != '"')
            return ns_json_fail_shape (r, "the dtype of tensor “%s” must be a string", e->name);
          ok = ns_json_read_string (r, &e->dtype);
        }
      else if (strcmp (key, "shape") == 0)
        {
          if (have_shape)
            return ns_json_fail (r, "tensor “%s” has two shapes", e->name);
          have_shape = TRUE;
          ok = read_shape (r, e);
        }
      else if (strcmp (key, "data_offsets") == 0)
        {
          if (have_offsets)
            return ns_json_fail (r, "tensor “%s” has two data_offsets", e->name);
          have_offsets = TRUE;
          ok = read_offsets (r, e);
        }
      else
        ok = ns_json_skip_value (r, 2);
      if (!ok)
        return FALSE;
    }
  if (e->dtype == NULL)
    return ns_json_fail (r, "tensor “%s” has no dtype", e->name);
  if (!have_shape)
    return ns_json_fail (r, "tensor “%s” has no shape", e->name);
  if (!have_offsets)
    return ns_json_fail (r, "tensor “%s” has no data_offsets", e->name);
  return TRUE;
}

/* "__metadata__" must map strings to strings; the values are not needed. */
static gboolean
read_metadata (NsJsonReader *r)
{
  gboolean first = TRUE, done;

  if (!ns_json_accept (r, '{'))
    return ns_json_fail_shape (r, "__metadata__ must be an object");
  for (;;)
    {
      if (!ns_json_object_next (r, &first, &done, NULL))
        return FALSE;
      if (done)
        return TRUE;
      ns_json_skip_ws (r);
      if (r->p >= r->end || *r->p != '"')
        return ns_json_fail_shape (r, "__metadata__ values must be strings");
      if (!ns_json_read_string (r, NULL))
        return FALSE;
    }
}

/* Parses the whole header into `entries` (RawEntry).  On failure returns the problem. */
static char *
parse_header (const char *json, gsize len, GArray *entries)
{
  NsJsonReader r = { json, json, json + len, NULL };
  gboolean first = TRUE, done, have_metadata = FALSE;
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  ns_json_skip_ws (&r);
  if (r.p >= r.end || *r.p != '{')
    {
      if (r.p < r.end && (*r.p == '[' || *r.p == '"' || *r.p == '-' || g_ascii_isdigit (*r.p)
                          || *r.p == 't' || *r.p == 'f' || *r.p == 'n'))
        return g_strdup ("the header is not a JSON object");
      ns_json_fail (&r, "the header does not start with '{'");
      return r.error;
    }
  r.p++;
  for (;;)
    {
      char *key = NULL;

      if (!ns_json_object_next (&r, &first, &done, &key))
        return r.error;
      if (done)
        break;
      if (strcmp (key, "__metadata__") == 0)
        {
          g_free (key);
          if (have_metadata)
            {
              ns_json_fail (&r, "__metadata__ appears twice");
              return r.error;
            }
          have_metadata = TRUE;
          if (!read_metadata (&r))
            return r.error;
        }
      else
        {
          RawEntry e = { key, NULL, 0, { 0 }, 0, 0 };

          if (g_hash_table_contains (names, key))
            {
              ns_json_fail (&r, "tensor “%s” appears twice", key);
              g_free (key);
              return r.error;
            }
          g_hash_table_add (names, g_strdup (key));
          if (!read_entry (&r, &e))
            {
              raw_entry_clear (&e);
              return r.error;
            }
          g_array_append_val (entries, e);
        }
    }
  ns_json_skip_ws (&r);
  if (r.p != r.end)
    {
      ns_json_fail (&r, "unexpected text after the header object");
      return r.error;
    }
  return NULL;
}

/* ---- validation of the entries against the data area ------------------------------------- */

void
ns_safetensors_append_shape (GString *s, const gint64 *shape, int n_dims)
{
  g_string_append_c (s, '[');
  for (int i = 0; i < n_dims; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? ", " : "", shape[i]);
  g_string_append_c (s, ']');
}

static char *
shape_to_string (const gint64 *shape, int n_dims)
{
  GString *s = g_string_new (NULL);
  ns_safetensors_append_shape (s, shape, n_dims);
  return g_string_free (s, FALSE);
}

static int
compare_by_begin (gconstpointer a, gconstpointer b)
{
  const NsSafetensorsTensor *x = *(NsSafetensorsTensor * const *) a;
  const NsSafetensorsTensor *y = *(NsSafetensorsTensor * const *) b;
  if (x->data != y->data)
    return x->data < y->data ? -1 : 1;
  return x->n_bytes < y->n_bytes ? -1 : x->n_bytes > y->n_bytes;
}

/* Checks one entry and turns it into a tensor. */
static char *
check_entry (NsSafetensors *st, const RawEntry *e, NsSafetensorsTensor *t)
{
  const DtypeInfo *info = dtype_lookup (e->dtype);
  guint64 count = 1, n_bytes;

  if (info == NULL)
    return g_strdup_printf ("tensor “%s” has an unknown dtype “%s”", e->name, e->dtype);
  for (int i = 0; i < e->n_dims; i++)
    if (!g_uint64_checked_mul (&count, count, (guint64) e->shape[i]))
      return g_strdup_printf ("the shape of tensor “%s” is too large", e->name);
  if (!g_uint64_checked_mul (&n_bytes, count, info->size))
    return g_strdup_printf ("the shape of tensor “%s” is too large", e->name);
  if (e->begin > e->end)
    return g_strdup_printf ("tensor “%s” has data_offsets whose begin (%" G_GUINT64_FORMAT
                            ") is after its end (%" G_GUINT64_FORMAT ")",
                            e->name, e->begin, e->end);
  if (e->end > st->data_size)
    return g_strdup_printf ("tensor “%s” lies outside the data area (bytes %" G_GUINT64_FORMAT
                            "–%" G_GUINT64_FORMAT " of %" G_GSIZE_FORMAT "): the file is "
                            "truncated or damaged", e->name, e->begin, e->end, st->data_size);
  if (e->end - e->begin != n_bytes)
    {
      g_autofree char *shape = shape_to_string (e->shape, e->n_dims);
      return g_strdup_printf ("tensor “%s” has %" G_GUINT64_FORMAT " bytes of data, which does "
                              "not match its shape %s of %s (%" G_GUINT64_FORMAT " bytes)",
                              e->name, e->end - e->begin, shape, info->name, n_bytes);
    }

  t->name = g_string_chunk_insert (st->strings, e->name);
  t->dtype = info->dtype;
  t->dtype_name = info->name;
  t->n_dims = e->n_dims;
  memset (t->shape, 0, sizeof t->shape);
  memcpy (t->shape, e->shape, sizeof (gint64) * e->n_dims);
  t->data = st->data + e->begin;
  t->n_bytes = (gsize) n_bytes;
  return NULL;
}

/* No byte may belong to two tensors.  Empty tensors own no bytes. */
static char *
check_overlaps (NsSafetensors *st)
{
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  const NsSafetensorsTensor *prev = NULL;

  for (guint i = 0; i < st->tensors->len; i++)
    {
      NsSafetensorsTensor *t = &g_array_index (st->tensors, NsSafetensorsTensor, i);
      if (t->n_bytes > 0)
        g_ptr_array_add (order, t);
    }
  g_ptr_array_sort (order, compare_by_begin);
  for (guint i = 0; i < order->len; i++)
    {
      const NsSafetensorsTensor *t = order->pdata[i];
      if (prev != NULL && t->data < prev->data + prev->n_bytes)
        return g_strdup_printf ("the data of tensors “%s” and “%s” overlap", prev->name, t->name);
      if (prev == NULL || t->data + t->n_bytes > prev->data + prev->n_bytes)
        prev = t;
    }
  return NULL;
}

/* Reads the header and fills st->tensors; returns the problem, or NULL. */
static char *
load_header (NsSafetensors *st)
{
  const guint8 *base = (const guint8 *) g_mapped_file_get_contents (st->map);
  gsize size = g_mapped_file_get_length (st->map);
  g_autoptr (GArray) entries = NULL;
  guint64 header_len;
  char *problem;

  if (size < 8)
    return g_strdup_printf ("the file is too short (%" G_GSIZE_FORMAT " bytes) to hold a "
                            "safetensors header", size);
  memcpy (&header_len, base, 8);
  header_len = GUINT64_FROM_LE (header_len);
  if (header_len > MAX_HEADER_BYTES)
    return g_strdup_printf ("its header length (%" G_GUINT64_FORMAT " bytes) is absurd: more than "
                            "%" G_GUINT64_FORMAT " bytes", header_len, MAX_HEADER_BYTES);
  if (header_len > size - 8)
    return g_strdup_printf ("its header length (%" G_GUINT64_FORMAT " bytes) exceeds the file "
                            "size (%" G_GSIZE_FORMAT " bytes): the file is truncated",
                            header_len, size);

  st->data = base + 8 + header_len;
  st->data_size = size - 8 - (gsize) header_len;

  entries = g_array_new (FALSE, TRUE, sizeof (RawEntry));
  g_array_set_clear_func (entries, raw_entry_clear);
  problem = parse_header ((const char *) base + 8, (gsize) header_len, entries);
  if (problem != NULL)
    return problem;

  g_array_set_size (st->tensors, entries->len);
  for (guint i = 0; i < entries->len; i++)
    {
      NsSafetensorsTensor *t = &g_array_index (st->tensors, NsSafetensorsTensor, i);
      problem = check_entry (st, &g_array_index (entries, RawEntry, i), t);
      if (problem != NULL)
        return problem;
      g_hash_table_insert (st->by_name, (gpointer) t->name, GUINT_TO_POINTER (i + 1));
    }
  return check_overlaps (st);
}

NsSafetensors *
ns_safetensors_open (const char *path, GError **error)
{
  g_autoptr (NsSafetensors) st = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *display = NULL;
  g_autofree char *problem = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  display = g_filename_display_name (path);
  st = g_new0 (NsSafetensors, 1);
  st->path = g_strdup (path);
  st->tensors = g_array_new (FALSE, TRUE, sizeof (NsSafetensorsTensor));
  st->strings = g_string_chunk_new (1024);
  st->by_name = g_hash_table_new (g_str_hash, g_str_equal);

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_IO,
                   "Weights file “%s” does not exist. Run “neural-style --download-weights” "
                   "to fetch it, or pass another file with --weights.", display);
      return NULL;
    }
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_IO,
                   "Could not open weights file “%s”: it is a directory.", display);
      return NULL;
    }
  st->map = g_mapped_file_new (path, FALSE, &local);
  if (st->map == NULL)
    {
      /* GLib's message already names the file. */
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "Could not open the weights file: %s",
                   local->message);
      return NULL;
    }

  problem = load_header (st);
  if (problem != NULL)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_WEIGHTS,
                   "“%s” is not a valid safetensors weights file: %s. " REDOWNLOAD_HINT,
                   display, problem);
      return NULL;
    }
  return g_steal_pointer (&st);
}

void
ns_safetensors_close (NsSafetensors *st)
{
  if (st == NULL)
    return;
  if (st->map != NULL)
    g_mapped_file_unref (st->map);
  g_array_unref (st->tensors);
  g_string_chunk_free (st->strings);
  g_hash_table_unref (st->by_name);
  g_free (st->path);
  g_free (st);
}

const char *
ns_safetensors_get_path (const NsSafetensors *st)
{
  return st->path;
}

guint
ns_safetensors_get_n_tensors (const NsSafetensors *st)
{
  return st->tensors->len;
}

const NsSafetensorsTensor *
ns_safetensors_get_tensor (const NsSafetensors *st, guint index)
{
  g_return_val_if_fail (index < st->tensors->len, NULL);
  return &g_array_index (st->tensors, NsSafetensorsTensor, index);
}

const NsSafetensorsTensor *
ns_safetensors_find (const NsSafetensors *st, const char *name)
{
  guint i = GPOINTER_TO_UINT (g_hash_table_lookup (st->by_name, name));
  return i == 0 ? NULL : &g_array_index (st->tensors, NsSafetensorsTensor, i - 1);
}

/* ---- reading as F32 ---------------------------------------------------------------------- */

static float
bits_to_float (guint32 bits)
{
  float f;
  memcpy (&f, &bits, sizeof f);
  return f;
}

/* IEEE binary16 → binary32, exact for every value (subnormals, infinities, NaN payloads). */
static float
half_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000u) << 16;
  guint32 exponent = (h >> 10) & 0x1fu;
  guint32 mantissa = h & 0x3ffu;

  if (exponent == 0)
    {
      /* Zero or subnormal: mantissa · 2⁻²⁴, exact in binary32. */
      float v = ldexpf ((float) mantissa, -24);
      return sign ? -v : v;
    }
  if (exponent == 31)
    return bits_to_float (sign | 0x7f800000u | (mantissa << 13));
  return bits_to_float (sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

static guint16
load_u16_le (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static void
convert_to_f32 (const NsSafetensorsTensor *t, gsize count, float *dst)
{
  const guint8 *src = t->data;

  /* A zero-element destination may be NULL (g_malloc (0)), and memcpy must not see it. */
  if (count == 0)
    return;
  switch (t->dtype)
    {
    case NS_DTYPE_F32:
      /* memcpy: the data may be unaligned. */
      memcpy (dst, src, count * sizeof (float));
#if G_BYTE_ORDER == G_BIG_ENDIAN
      for (gsize i = 0; i < count; i++)
        {
          guint32 b;
          memcpy (&b, &dst[i], 4);
          b = GUINT32_SWAP_LE_BE (b);
          memcpy (&dst[i], &b, 4);
        }
#endif
      break;
    case NS_DTYPE_F16:
      for (gsize i = 0; i < count; i++)
        dst[i] = half_to_float (load_u16_le (src + 2 * i));
      break;
    case NS_DTYPE_BF16:
      for (gsize i = 0; i < count; i++)
        dst[i] = bits_to_float ((guint32) load_u16_le (src + 2 * i) << 16);
      break;
    case NS_DTYPE_OTHER:
    default:
      g_assert_not_reached ();
    }
}

gboolean
ns_safetensors_read_f32 (const NsSafetensors *st, const char *name,
                         const gint64 *shape, int n_dims, float *dst, GError **error)
{
  const NsSafetensorsTensor *t;
  g_autofree char *display = NULL;
  gboolean same = TRUE;
  gsize count = 1;

  g_return_val_if_fail (st != NULL && name != NULL, FALSE);
  g_return_val_if_fail (n_dims >= 0 && (shape != NULL || n_dims == 0), FALSE);

  display = g_filename_display_name (st->path);
  t = ns_safetensors_find (st, name);
  if (t == NULL)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_WEIGHTS,
                   "Tensor “%s” is missing from weights file “%s”: it is not the expected "
                   "network. " REDOWNLOAD_HINT, name, display);
      return FALSE;
    }
  if (t->n_dims != n_dims)
    same = FALSE;
  for (int i = 0; same && i < n_dims; i++)
    same = t->shape[i] == shape[i];
  if (!same)
    {
      g_autofree char *want = shape_to_string (shape, n_dims);
      g_autofree char *have = shape_to_string (t->shape, t->n_dims);
      g_set_error (error, NS_ERROR, NS_ERROR_WEIGHTS,
                   "Tensor “%s” in weights file “%s” has the wrong shape %s, expected %s: "
                   "it is not the expected network. " REDOWNLOAD_HINT, name, display, have, want);
      return FALSE;
    }
  if (t->dtype == NS_DTYPE_OTHER)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_WEIGHTS,
                   "Tensor “%s” in weights file “%s” has dtype %s, which cannot be read as "
                   "floating point (F32, F16 or BF16 are needed). " REDOWNLOAD_HINT,
                   name, display, t->dtype_name);
      return FALSE;
    }
  for (int i = 0; i < n_dims; i++)
    count *= (gsize) shape[i];
  convert_to_f32 (t, count, dst);
  return TRUE;
}
