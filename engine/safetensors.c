/* safetensors.c — a validating, memory-mapped safetensors reader and an F32 writer.
 *
 * A safetensors file is an 8-byte little-endian header length N, N bytes of JSON describing
 * every tensor (dtype, shape, data_offsets relative to the data area), then the raw data.
 * The file may come from anywhere, so the header is treated as hostile: the JSON reader
 * below is strict, allocates only what the schema needs, limits nesting, and every offset
 * and size is checked before anything is dereferenced.
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

#include "ns-internal.h"

/* The reference implementation's limit; real headers are a few kilobytes. */
#define MAX_HEADER_BYTES ((guint64) 100000000)
#define MAX_DIMS         8
#define MAX_JSON_DEPTH   64

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

/* ---- a strict, schema-driven JSON reader ---------------------------------------------------- */

typedef struct
{
  const char *start;
  const char *p;
  const char *end;
  char       *error;            /* first problem found; owned */
} JsonReader;

typedef enum { NUM_UINT, NUM_TOO_LARGE, NUM_OTHER } NumKind;

static gboolean G_GNUC_PRINTF (2, 3)
json_fail (JsonReader *r, const char *format, ...)
{
  va_list args;
  char *what;

  if (r->error != NULL)
    return FALSE;
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  r->error = g_strdup_printf ("invalid JSON in the header at byte %" G_GSIZE_FORMAT ": %s",
                              (gsize) (r->p - r->start), what);
  g_free (what);
  return FALSE;
}

static void
json_skip_ws (JsonReader *r)
{
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
    r->p++;
}

/* Skips whitespace, then consumes `c` if it is next. */
static gboolean
json_accept (JsonReader *r, char c)
{
  json_skip_ws (r);
  if (r->p < r->end && *r->p == c)
    {
      r->p++;
      return TRUE;
    }
  return FALSE;
}

/* Fails with `what`, or with "unexpected end" when the header simply stops (truncation). */
#define json_fail_shape(r, ...) \
  ((r)->p >= (r)->end ? json_fail ((r), "unexpected end of the header") : json_fail ((r), __VA_ARGS__))

static gboolean
json_expect (JsonReader *r, char c)
{
  if (json_accept (r, c))
    return TRUE;
  if (r->p >= r->end)
    return json_fail (r, "unexpected end, expected '%c'", c);
  return json_fail (r, "expected '%c'", c);
}

static int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
json_read_hex4 (JsonReader *r, guint *out)
{
  guint v = 0;

  if (r->end - r->p < 4)
    return json_fail (r, "truncated \\u escape");
  for (int i = 0; i < 4; i++)
    {
      int d = hex_digit (r->p[i]);
      if (d < 0)
        return json_fail (r, "bad \\u escape");
      v = v * 16 + (guint) d;
    }
  r->p += 4;
  *out = v;
  return TRUE;
}

/* Reads a string (the opening quote is next).  `out` may be NULL to only validate. */
static gboolean
json_read_string (JsonReader *r, char **out)
{
  GString *s = out != NULL ? g_string_new (NULL) : NULL;
  const char *begin;

  json_skip_ws (r);
  if (r->p >= r->end || *r->p != '"')
    {
      if (s != NULL)
        g_string_free (s, TRUE);
      return json_fail (r, "expected a string");
    }
  r->p++;
  begin = r->p;
  for (;;)
    {
      guchar c;

      if (r->p >= r->end)
        {
          json_fail (r, "unterminated string");
          goto fail;
        }
      c = (guchar) *r->p;
      if (c == '"')
        break;
      if (c < 0x20)
        {
          json_fail (r, "control character in a string");
          goto fail;
        }
      if (c != '\\')
        {
          if (s != NULL)
            g_string_append_c (s, (char) c);
          r->p++;
          continue;
        }
      /* An escape sequence. */
      r->p++;
      if (r->p >= r->end)
        {
          json_fail (r, "unterminated string");
          goto fail;
        }
      c = (guchar) *r->p++;
      switch (c)
        {
        case '"': case '\\': case '/':
          if (s != NULL) g_string_append_c (s, (char) c);
          break;
        case 'b': if (s != NULL) g_string_append_c (s, '\b'); break;
        case 'f': if (s != NULL) g_string_append_c (s, '\f'); break;
        case 'n': if (s != NULL) g_string_append_c (s, '\n'); break;
        case 'r': if (s != NULL) g_string_append_c (s, '\r'); break;
        case 't': if (s != NULL) g_string_append_c (s, '\t'); break;
        case 'u':
          {
            guint cp, lo;

            if (!json_read_hex4 (r, &cp))
              goto fail;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
              {
                json_fail (r, "unpaired surrogate in \\u escape");
                goto fail;
              }
            if (cp >= 0xD800 && cp <= 0xDBFF)
              {
                if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
                  {
                    json_fail (r, "unpaired surrogate in \\u escape");
                    goto fail;
                  }
                r->p += 2;
                if (!json_read_hex4 (r, &lo))
                  goto fail;
                if (lo < 0xDC00 || lo > 0xDFFF)
                  {
                    json_fail (r, "unpaired surrogate in \\u escape");
                    goto fail;
                  }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              }
            /* Names become C strings, so an embedded NUL would silently cut them. */
            if (cp == 0)
              {
                json_fail (r, "NUL character in a string");
                goto fail;
              }
            if (s != NULL)
              g_string_append_unichar (s, (gunichar) cp);
            break;
          }
        default:
          r->p--;
          json_fail (r, "unknown escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
          goto fail;
        }
    }
  if (!g_utf8_validate (begin, r->p - begin, NULL))
    {
      json_fail (r, "a string is not valid UTF-8");
      goto fail;
    }
  r->p++;   /* closing quote */
  if (s != NULL)
    *out = g_string_free (s, FALSE);
  return TRUE;

fail:
  if (s != NULL)
    g_string_free (s, TRUE);
  return FALSE;
}

/* Reads a number following the JSON grammar exactly.  Only plain non-negative integers
 * are ever used by the schema, so only those get a value. */
static gboolean
json_read_number (JsonReader *r, NumKind *kind, guint64 *value)
{
  gboolean negative = FALSE, overflow = FALSE, fraction = FALSE;
  guint64 v = 0;

  json_skip_ws (r);
  if (r->p < r->end && *r->p == '-')
    {
      negative = TRUE;
      r->p++;
    }
  if (r->p >= r->end || !g_ascii_isdigit (*r->p))
    return json_fail (r, "expected a number");
  if (*r->p == '0' && r->p + 1 < r->end && g_ascii_isdigit (r->p[1]))
    return json_fail (r, "number with a leading zero");
  while (r->p < r->end && g_ascii_isdigit (*r->p))
    {
      guint d = (guint) (*r->p - '0');
      if (v > ((guint64) G_MAXINT64 - d) / 10)
        overflow = TRUE;
      else
        v = v * 10 + d;
      r->p++;
    }
  if (r->p < r->end && *r->p == '.')
    {
      fraction = TRUE;
      r->p++;
      if (r->p >= r->end || !g_ascii_isdigit (*r->p))
        return json_fail (r, "expected digits after '.'");
      while (r->p < r->end && g_ascii_isdigit (*r->p))
        r->p++;
    }
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E'))
    {
      fraction = TRUE;
      r->p++;
      if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
        r->p++;
      if (r->p >= r->end || !g_ascii_isdigit (*r->p))
        return json_fail (r, "expected digits in an exponent");
      while (r->p < r->end && g_ascii_isdigit (*r->p))
        r->p++;
    }
  if (negative || fraction)
    *kind = NUM_OTHER;
  else
    *kind = overflow ? NUM_TOO_LARGE : NUM_UINT;
  *value = v;
  return TRUE;
}

static gboolean
json_read_literal (JsonReader *r, const char *word)
{
  gsize len = strlen (word);

  if ((gsize) (r->end - r->p) < len || memcmp (r->p, word, len) != 0)
    return json_fail (r, "unexpected character");
  r->p += len;
  return TRUE;
}

/* Validates and skips any value (for keys the schema does not use). */
static gboolean
json_skip_value (JsonReader *r, int depth)
{
  json_skip_ws (r);
  if (r->p >= r->end)
    return json_fail (r, "unexpected end, expected a value");
  if (depth > MAX_JSON_DEPTH)
    return json_fail (r, "nested more than %d levels deep", MAX_JSON_DEPTH);

  switch (*r->p)
    {
    case '"':
      return json_read_string (r, NULL);
    case 't':
      return json_read_literal (r, "true");
    case 'f':
      return json_read_literal (r, "false");
    case 'n':
      return json_read_literal (r, "null");
    case '[':
      r->p++;
      if (json_accept (r, ']'))
        return TRUE;
      do
        if (!json_skip_value (r, depth + 1))
          return FALSE;
      while (json_accept (r, ','));
      return json_expect (r, ']');
    case '{':
      r->p++;
      if (json_accept (r, '}'))
        return TRUE;
      do
        if (!json_read_string (r, NULL) || !json_expect (r, ':') || !json_skip_value (r, depth + 1))
          return FALSE;
      while (json_accept (r, ','));
      return json_expect (r, '}');
    default:
      {
        NumKind kind;
        guint64 v;
        if (*r->p == '-' || g_ascii_isdigit (*r->p))
          return json_read_number (r, &kind, &v);
        return json_fail (r, "unexpected character");
      }
    }
}

/* Iterates over an object's members: call with *first = TRUE after the '{' was consumed.
 * Returns FALSE on a syntax error; sets *done at the closing brace, otherwise *key. */
static gboolean
json_object_next (JsonReader *r, gboolean *first, gboolean *done, char **key)
{
  *done = json_accept (r, '}');
  if (*done)
    return TRUE;
  if (!*first && !json_expect (r, ','))
    return FALSE;
  *first = FALSE;
  if (!json_read_string (r, key))
    return FALSE;
  if (!json_expect (r, ':'))
    {
      if (key != NULL)
        g_clear_pointer (key, g_free);
      return FALSE;
    }
  return TRUE;
}

/* Same for arrays: after '[', returns with *done set at ']', else the element is next. */
static gboolean
json_array_next (JsonReader *r, gboolean *first, gboolean *done)
{
  *done = json_accept (r, ']');
  if (*done)
    return TRUE;
  if (!*first && !json_expect (r, ','))
    return FALSE;
  *first = FALSE;
  return TRUE;
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
read_uint (JsonReader *r, const char *name, const char *what, guint64 *out)
{
  NumKind kind;

  json_skip_ws (r);
  if (r->p >= r->end || !(*r->p == '-' || g_ascii_isdigit (*r->p)))
    return json_fail_shape (r, "%s of tensor “%s” must hold numbers", what, name);
  if (!json_read_number (r, &kind, out))
    return FALSE;
  if (kind == NUM_TOO_LARGE)
    return json_fail (r, "%s of tensor “%s” holds a number that is too large", what, name);
  if (kind != NUM_UINT)
    return json_fail (r, "%s of tensor “%s” must hold non-negative integers", what, name);
  return TRUE;
}

static gboolean
read_shape (JsonReader *r, RawEntry *e)
{
  gboolean first = TRUE, done;

  if (!json_accept (r, '['))
    return json_fail_shape (r, "the shape of tensor “%s” must be an array", e->name);
  e->n_dims = 0;
  for (;;)
    {
      guint64 dim;

      if (!json_array_next (r, &first, &done))
        return FALSE;
      if (done)
        return TRUE;
      if (e->n_dims == MAX_DIMS)
        return json_fail (r, "tensor “%s” has more than %d dimensions", e->name, MAX_DIMS);
      if (!read_uint (r, e->name, "the shape", &dim))
        return FALSE;
      e->shape[e->n_dims++] = (gint64) dim;
    }
}

static gboolean
read_offsets (JsonReader *r, RawEntry *e)
{
  gboolean first = TRUE, done;
  guint64 v[2];
  int n = 0;

  if (!json_accept (r, '['))
    return json_fail_shape (r, "data_offsets of tensor “%s” must be an array", e->name);
  for (;;)
    {
      if (!json_array_next (r, &first, &done))
        return FALSE;
      if (done)
        break;
      if (n == 2)
        return json_fail (r, "data_offsets of tensor “%s” must have two numbers", e->name);
      if (!read_uint (r, e->name, "data_offsets", &v[n]))
        return FALSE;
      n++;
    }
  if (n != 2)
    return json_fail (r, "data_offsets of tensor “%s” must have two numbers", e->name);
  e->begin = v[0];
  e->end = v[1];
  return TRUE;
}

/* Reads {"dtype": …, "shape": […], "data_offsets": [b, e]}; other keys are ignored, as the
 * reference implementation does. */
static gboolean
read_entry (JsonReader *r, RawEntry *e)
{
  gboolean first = TRUE, done;
  gboolean have_shape = FALSE, have_offsets = FALSE;

  if (!json_accept (r, '{'))
    return json_fail_shape (r, "the entry of tensor “%s” must be an object", e->name);
  for (;;)
    {
      g_autofree char *key = NULL;
      gboolean ok;

      if (!json_object_next (r, &first, &done, &key))
        return FALSE;
      if (done)
        break;
      if (strcmp (key, "dtype") == 0)
        {
          if (e->dtype != NULL)
            return json_fail (r, "tensor “%s” has two dtypes", e->name);
          json_skip_ws (r);
          if (r->p >= r->end || *r->p != '"')
            return json_fail_shape (r, "the dtype of tensor “%s” must be a string", e->name);
          ok = json_read_string (r, &e->dtype);
        }
      else if (strcmp (key, "shape") == 0)
        {
          if (have_shape)
            return json_fail (r, "tensor “%s” has two shapes", e->name);
          have_shape = TRUE;
          ok = read_shape (r, e);
        }
      else if (strcmp (key, "data_offsets") == 0)
        {
          if (have_offsets)
            return json_fail (r, "tensor “%s” has two data_offsets", e->name);
          have_offsets = TRUE;
          ok = read_offsets (r, e);
        }
      else
        ok = json_skip_value (r, 2);
      if (!ok)
        return FALSE;
    }
  if (e->dtype == NULL)
    return json_fail (r, "tensor “%s” has no dtype", e->name);
  if (!have_shape)
    return json_fail (r, "tensor “%s” has no shape", e->name);
  if (!have_offsets)
    return json_fail (r, "tensor “%s” has no data_offsets", e->name);
  return TRUE;
}

/* "__metadata__" must map strings to strings; the values are not needed. */
static gboolean
read_metadata (JsonReader *r)
{
  gboolean first = TRUE, done;

  if (!json_accept (r, '{'))
    return json_fail_shape (r, "__metadata__ must be an object");
  for (;;)
    {
      if (!json_object_next (r, &first, &done, NULL))
        return FALSE;
      if (done)
        return TRUE;
      json_skip_ws (r);
      if (r->p >= r->end || *r->p != '"')
        return json_fail_shape (r, "__metadata__ values must be strings");
      if (!json_read_string (r, NULL))
        return FALSE;
    }
}

/* Parses the whole header into `entries` (RawEntry).  On failure returns the problem. */
static char *
parse_header (const char *json, gsize len, GArray *entries)
{
  JsonReader r = { json, json, json + len, NULL };
  gboolean first = TRUE, done, have_metadata = FALSE;
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  json_skip_ws (&r);
  if (r.p >= r.end || *r.p != '{')
    {
      if (r.p < r.end && (*r.p == '[' || *r.p == '"' || *r.p == '-' || g_ascii_isdigit (*r.p)
                          || *r.p == 't' || *r.p == 'f' || *r.p == 'n'))
        return g_strdup ("the header is not a JSON object");
      json_fail (&r, "the header does not start with '{'");
      return r.error;
    }
  r.p++;
  for (;;)
    {
      char *key = NULL;

      if (!json_object_next (&r, &first, &done, &key))
        return r.error;
      if (done)
        break;
      if (strcmp (key, "__metadata__") == 0)
        {
          g_free (key);
          if (have_metadata)
            {
              json_fail (&r, "__metadata__ appears twice");
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
              json_fail (&r, "tensor “%s” appears twice", key);
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
  json_skip_ws (&r);
  if (r.p != r.end)
    {
      json_fail (&r, "unexpected text after the header object");
      return r.error;
    }
  return NULL;
}

/* ---- validation of the entries against the data area ------------------------------------- */

static void
format_shape (GString *s, const gint64 *shape, int n_dims)
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
  format_shape (s, shape, n_dims);
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

/* ---- writer -------------------------------------------------------------------------------- */

static int
compare_entries (gconstpointer a, gconstpointer b)
{
  const NsSafetensorsEntry *x = *(const NsSafetensorsEntry * const *) a;
  const NsSafetensorsEntry *y = *(const NsSafetensorsEntry * const *) b;
  return strcmp (x->name, y->name);
}

static void
append_json_string (GString *s, const char *str)
{
  g_string_append_c (s, '"');
  for (const char *p = str; *p; p++)
    {
      guchar c = (guchar) *p;
      if (c == '"' || c == '\\')
        g_string_append_printf (s, "\\%c", c);
      else if (c < 0x20)
        g_string_append_printf (s, "\\u%04x", c);
      else
        g_string_append_c (s, (char) c);
    }
  g_string_append_c (s, '"');
}

static gsize
entry_count (const NsSafetensorsEntry *e)
{
  gsize n = 1;
  for (int i = 0; i < e->n_dims; i++)
    n *= (gsize) e->shape[i];
  return n;
}

/* Checks the entries and returns them sorted by name, or NULL with an error. */
static GPtrArray *
sorted_entries (const NsSafetensorsEntry *entries, guint n_entries, GError **error)
{
  g_autoptr (GPtrArray) sorted = g_ptr_array_sized_new (n_entries);

  for (guint i = 0; i < n_entries; i++)
    {
      const NsSafetensorsEntry *e = &entries[i];
      guint64 count = 1;

      if (e->name == NULL || strcmp (e->name, "__metadata__") == 0
          || !g_utf8_validate (e->name, -1, NULL))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "Cannot write a tensor named “%s”.", e->name ? e->name : "(null)");
          return NULL;
        }
      if (e->n_dims < 0 || e->n_dims > MAX_DIMS)
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "Tensor “%s” has %d dimensions; at most %d can be written.",
                       e->name, e->n_dims, MAX_DIMS);
          return NULL;
        }
      for (int d = 0; d < e->n_dims; d++)
        if (e->shape[d] < 0 || !g_uint64_checked_mul (&count, count, (guint64) e->shape[d])
            || count > G_MAXSIZE / sizeof (float))
          {
            g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                         "Tensor “%s” has an invalid shape.", e->name);
            return NULL;
          }
      if (count > 0 && e->data == NULL)
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "Tensor “%s” has no data.", e->name);
          return NULL;
        }
      g_ptr_array_add (sorted, (gpointer) e);
    }
  g_ptr_array_sort (sorted, compare_entries);
  for (guint i = 1; i < sorted->len; i++)
    if (compare_entries (&sorted->pdata[i - 1], &sorted->pdata[i]) == 0)
      {
        g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                     "Tensor “%s” is given twice.",
                     ((const NsSafetensorsEntry *) sorted->pdata[i])->name);
        return NULL;
      }
  return g_steal_pointer (&sorted);
}

/* The header JSON, padded with spaces so that the data area starts 8-byte aligned. */
static GString *
build_header (GPtrArray *sorted)
{
  GString *s = g_string_new ("{");
  guint64 offset = 0;

  for (guint i = 0; i < sorted->len; i++)
    {
      const NsSafetensorsEntry *e = sorted->pdata[i];
      guint64 n_bytes = (guint64) entry_count (e) * sizeof (float);

      if (i > 0)
        g_string_append_c (s, ',');
      append_json_string (s, e->name);
      g_string_append (s, ":{\"dtype\":\"F32\",\"shape\":");
      format_shape (s, e->shape, e->n_dims);
      g_string_append_printf (s, ",\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                              offset, offset + n_bytes);
      offset += n_bytes;
    }
  g_string_append_c (s, '}');
  while (s->len % 8 != 0)
    g_string_append_c (s, ' ');
  return s;
}

static gboolean
write_floats (FILE *f, const float *data, gsize count)
{
#if G_BYTE_ORDER == G_BIG_ENDIAN
  guint32 buf[4096];
  while (count > 0)
    {
      gsize n = MIN (count, G_N_ELEMENTS (buf));
      memcpy (buf, data, n * 4);
      for (gsize i = 0; i < n; i++)
        buf[i] = GUINT32_TO_LE (buf[i]);
      if (fwrite (buf, 4, n, f) != n)
        return FALSE;
      data += n;
      count -= n;
    }
  return TRUE;
#else
  return count == 0 || fwrite (data, sizeof (float), count, f) == count;
#endif
}

static gboolean
write_file (FILE *f, GString *header, GPtrArray *sorted)
{
  guint64 len_le = GUINT64_TO_LE ((guint64) header->len);

  if (fwrite (&len_le, 8, 1, f) != 1 || fwrite (header->str, 1, header->len, f) != header->len)
    return FALSE;
  for (guint i = 0; i < sorted->len; i++)
    {
      const NsSafetensorsEntry *e = sorted->pdata[i];
      if (!write_floats (f, e->data, entry_count (e)))
        return FALSE;
    }
  if (fflush (f) != 0)
    return FALSE;
#ifdef G_OS_UNIX
  /* The rename below must not publish a file whose data is still only in the page cache. */
  if (fsync (fileno (f)) != 0)
    return FALSE;
#endif
  return TRUE;
}

gboolean
ns_safetensors_write (const char *path, const NsSafetensorsEntry *entries, guint n_entries,
                      GError **error)
{
  g_autoptr (GPtrArray) sorted = NULL;
  g_autoptr (GString) header = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *display = NULL;
  FILE *f;
  gboolean ok;
  int fd, saved_errno;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (entries != NULL || n_entries == 0, FALSE);

  sorted = sorted_entries (entries, n_entries, error);
  if (sorted == NULL)
    return FALSE;
  header = build_header (sorted);

  display = g_filename_display_name (path);
  fd = ns_file_create_temp (path, ".tmp", &tmp);
  f = fd < 0 ? NULL : fdopen (fd, "wb");
  if (f == NULL)
    {
      saved_errno = errno;
      if (fd >= 0)
        {
          close (fd);
          g_unlink (tmp);
        }
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "Could not write weights file “%s”: %s",
                   display, g_strerror (saved_errno));
      return FALSE;
    }
  errno = 0;
  ok = write_file (f, header, sorted);
  saved_errno = errno;
  if (fclose (f) != 0 && ok)
    {
      ok = FALSE;
      saved_errno = errno;
    }
  if (ok && g_rename (tmp, path) != 0)
    {
      ok = FALSE;
      saved_errno = errno;
    }
  if (!ok)
    {
      g_unlink (tmp);
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "Could not write weights file “%s”: %s",
                   display, saved_errno ? g_strerror (saved_errno) : "write error");
      return FALSE;
    }
  return TRUE;
}
