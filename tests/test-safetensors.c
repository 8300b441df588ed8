/* test-safetensors.c — the safetensors reader on good and hostile files, and the writer.
 *
 * Every file here is built byte by byte in the test, so the expected values come from the
 * IEEE formats and the safetensors layout, not from the code under test. */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "ns-internal.h"

typedef struct
{
  char *dir;
} Fixture;

/* Without fsync: thousands of small files are written, and durability does not matter. */
static void
set_contents (const char *path, const char *data, gssize len, GError **error)
{
  g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_NONE, 0644, error);
}

static void
fixture_setup (Fixture *fx, gconstpointer data)
{
  GError *error = NULL;
  fx->dir = g_dir_make_tmp ("ns-safetensors-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *fx, gconstpointer data)
{
  GDir *dir = g_dir_open (fx->dir, 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fx->dir, name, NULL);
      g_unlink (path);
    }
  g_dir_close (dir);
  g_rmdir (fx->dir);
  g_free (fx->dir);
}

/* Writes: u64 LE header_len, then header bytes, then data. */
static char *
write_raw (Fixture *fx, const char *name, guint64 header_len, const char *header, gsize header_bytes,
           const void *data, gsize data_len)
{
  char *path = g_build_filename (fx->dir, name, NULL);
  GByteArray *bytes = g_byte_array_new ();
  guint8 len_le[8];
  GError *error = NULL;

  for (int i = 0; i < 8; i++)
    len_le[i] = (guint8) (header_len >> (8 * i));
  g_byte_array_append (bytes, len_le, 8);
  g_byte_array_append (bytes, (const guint8 *) header, (guint) header_bytes);
  if (data_len > 0)
    g_byte_array_append (bytes, data, (guint) data_len);
  set_contents (path, (const char *) bytes->data, bytes->len, &error);
  g_assert_no_error (error);
  g_byte_array_unref (bytes);
  return path;
}

/* A file whose header is `json` and whose data area is `data_len` bytes of a pattern. */
static char *
write_json (Fixture *fx, const char *name, const char *json, gsize data_len)
{
  g_autofree guint8 *data = g_malloc0 (data_len + 1);
  for (gsize i = 0; i < data_len; i++)
    data[i] = (guint8) (i * 37 + 11);
  return write_raw (fx, name, strlen (json), json, strlen (json), data, data_len);
}

/* Opening `path` must fail with NS_ERROR/`code`, a message naming the file and containing
 * `word`. */
static void
expect_open_error (const char *path, int code, const char *word)
{
  GError *error = NULL;
  NsSafetensors *st = ns_safetensors_open (path, &error);
  g_autofree char *base = g_path_get_basename (path);

  g_assert_null (st);
  g_assert_error (error, NS_ERROR, code);
  if (strstr (error->message, word) == NULL || strstr (error->message, base) == NULL)
    g_error ("message for %s lacks “%s” or the file name: %s", base, word, error->message);
  if (code == NS_ERROR_WEIGHTS)
    g_assert_nonnull (strstr (error->message, "--download-weights"));
  g_error_free (error);
}

/* ---- the good file ----------------------------------------------------------------------- */

static const float f32_values[6] = { 1.5f, -2.25f, 0.0f, 3.0e-8f, 1.0e30f, -0.0f };
static const guint16 f16_bits[7] = { 0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF, 0x8000, 0x03FF };
static const guint16 bf16_bits[4] = { 0x3F80, 0xC049, 0x0001, 0x7F80 };

/* Builds the good file: F32 [2,3], F16 [7], BF16 [2,2], I64 [3], F32 scalar with an escaped
 * name, an empty F32 [0,5], metadata, and an unknown key.  The header length is chosen so
 * that the data area starts at an odd address. */
static char *
write_good_file (Fixture *fx, const char *name, gsize *data_offset)
{
  guint8 data[74];
  g_autoptr (GString) json = g_string_new (NULL);
  gint64 ints[3] = { 7, -1, G_MAXINT64 };
  float scalar = 42.0f;

  memcpy (data + 0, f32_values, 24);              /* host is little-endian on every CI target */
  for (int i = 0; i < 7; i++)
    {
      data[24 + 2 * i] = (guint8) (f16_bits[i] & 0xff);
      data[24 + 2 * i + 1] = (guint8) (f16_bits[i] >> 8);
    }
  for (int i = 0; i < 4; i++)
    {
      data[38 + 2 * i] = (guint8) (bf16_bits[i] & 0xff);
      data[38 + 2 * i + 1] = (guint8) (bf16_bits[i] >> 8);
    }
  memcpy (data + 46, ints, 24);
  memcpy (data + 70, &scalar, 4);

  g_string_append (json,
    "{ \"__metadata__\": {\"format\": \"pt\", \"note\": \"q\\\"uote\\u00e9\"},\n"
    "  \"b.f16\": {\"dtype\": \"F16\", \"shape\": [7], \"data_offsets\": [24, 38]},\n"
    "  \"a.f32\": {\"shape\": [2, 3], \"dtype\": \"F32\", \"data_offsets\": [0, 24],\n"
    "              \"extra\": [1, {\"x\": null, \"y\": [true, false]}, -1.5e3, \"s\"]},\n"
    "  \"c.bf16\": {\"dtype\": \"BF16\", \"shape\": [2,2], \"data_offsets\": [38,46]},\n"
    "  \"d.i64\": {\"dtype\": \"I64\", \"shape\": [3], \"data_offsets\": [46, 70]},\n"
    "  \"z.empty\": {\"dtype\": \"F32\", \"shape\": [0, 5], \"data_offsets\": [70, 70]},\n"
    "  \"w\\u00e9ights\\/\\ud83d\\ude00\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": [70, 74]}\n"
    "}");
  /* 8 + N odd: every tensor's data is misaligned for its type. */
  while ((8 + json->len) % 2 == 0)
    g_string_append_c (json, ' ');
  *data_offset = 8 + json->len;
  return write_raw (fx, name, json->len, json->str, json->len, data, sizeof data);
}

static void
test_good_file (Fixture *fx, gconstpointer unused)
{
  gsize offset;
  g_autofree char *path = write_good_file (fx, "good.safetensors", &offset);
  GError *error = NULL;
  g_autoptr (NsSafetensors) st = ns_safetensors_open (path, &error);
  const NsSafetensorsTensor *t;
  float f32[6], f16[7], bf16[4], scalar, sentinel[2] = { 123.0f, 123.0f };
  gint64 s23[2] = { 2, 3 }, s7[1] = { 7 }, s22[2] = { 2, 2 }, s3[1] = { 3 }, s05[2] = { 0, 5 };

  g_assert_no_error (error);
  g_assert_nonnull (st);
  g_assert_cmpstr (ns_safetensors_get_path (st), ==, path);
  g_assert_cmpuint (ns_safetensors_get_n_tensors (st), ==, 6);

  t = ns_safetensors_find (st, "a.f32");
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, NS_DTYPE_F32);
  g_assert_cmpstr (t->dtype_name, ==, "F32");
  g_assert_cmpint (t->n_dims, ==, 2);
  g_assert_cmpint (t->shape[0], ==, 2);
  g_assert_cmpint (t->shape[1], ==, 3);
  g_assert_cmpuint (t->n_bytes, ==, 24);
  /* The test is only meaningful if the data really is misaligned. */
  g_assert_cmpuint (GPOINTER_TO_SIZE (t->data) % 4, !=, 0);

  g_assert_true (ns_safetensors_read_f32 (st, "a.f32", s23, 2, f32, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (f32, sizeof f32, f32_values, sizeof f32_values);   /* bit-exact, -0 too */

  g_assert_true (ns_safetensors_read_f32 (st, "b.f16", s7, 1, f16, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (f16[0], ==, 1.0f);
  g_assert_cmpfloat (f16[1], ==, -2.0f);
  g_assert_cmpfloat (f16[2], ==, 0.333251953125f);           /* 0x3555 = 1365/4096 */
  g_assert_cmpfloat (f16[3], ==, 5.9604644775390625e-8f);    /* smallest subnormal 2^-24 */
  g_assert_cmpfloat (f16[4], ==, 65504.0f);                  /* largest finite */
  g_assert_cmpfloat (f16[5], ==, 0.0f);
  g_assert_true (signbit (f16[5]));
  g_assert_cmpfloat (f16[6], ==, 1023.0f / 16777216.0f);     /* largest subnormal */

  g_assert_true (ns_safetensors_read_f32 (st, "c.bf16", s22, 2, bf16, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (bf16[0], ==, 1.0f);
  g_assert_cmpfloat (bf16[1], ==, -3.140625f);                /* 0xC049 */
  g_assert_cmpfloat (bf16[2], ==, ldexpf (1.0f, -133));       /* bf16 subnormal */
  g_assert_true (isinf (bf16[3]) && bf16[3] > 0);

  t = ns_safetensors_find (st, "d.i64");
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, NS_DTYPE_OTHER);
  g_assert_cmpstr (t->dtype_name, ==, "I64");
  g_assert_false (ns_safetensors_read_f32 (st, "d.i64", s3, 1, sentinel, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, "I64"));
  g_assert_nonnull (strstr (error->message, "d.i64"));
  g_assert_cmpfloat (sentinel[0], ==, 123.0f);               /* nothing written on failure */
  g_clear_error (&error);

  /* Escaped name: é, an escaped '/', and a surrogate pair (U+1F600). */
  t = ns_safetensors_find (st, "wéights/\xF0\x9F\x98\x80");
  g_assert_nonnull (t);
  g_assert_cmpint (t->n_dims, ==, 0);
  g_assert_true (ns_safetensors_read_f32 (st, t->name, NULL, 0, &scalar, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (scalar, ==, 42.0f);

  t = ns_safetensors_find (st, "z.empty");
  g_assert_nonnull (t);
  g_assert_cmpuint (t->n_bytes, ==, 0);
  g_assert_true (ns_safetensors_read_f32 (st, "z.empty", s05, 2, sentinel, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (sentinel[0], ==, 123.0f);

  g_assert_null (ns_safetensors_find (st, "__metadata__"));
  g_assert_null (ns_safetensors_find (st, "nope"));
}

static void
test_read_errors (Fixture *fx, gconstpointer unused)
{
  gsize offset;
  g_autofree char *path = write_good_file (fx, "good2.safetensors", &offset);
  GError *error = NULL;
  g_autoptr (NsSafetensors) st = ns_safetensors_open (path, &error);
  gint64 s32[2] = { 3, 2 }, s6[1] = { 6 }, s231[3] = { 2, 3, 1 };
  float buf[8];

  g_assert_no_error (error);

  /* Wrong shape: transposed, flattened, extra dimension. */
  g_assert_false (ns_safetensors_read_f32 (st, "a.f32", s32, 2, buf, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, "a.f32"));
  g_assert_nonnull (strstr (error->message, "wrong shape"));
  g_assert_nonnull (strstr (error->message, "[3, 2]"));
  g_assert_nonnull (strstr (error->message, "[2, 3]"));
  g_clear_error (&error);
  g_assert_false (ns_safetensors_read_f32 (st, "a.f32", s6, 1, buf, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
  g_clear_error (&error);
  g_assert_false (ns_safetensors_read_f32 (st, "a.f32", s231, 3, buf, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
  g_clear_error (&error);

  /* Missing tensor. */
  g_assert_false (ns_safetensors_read_f32 (st, "features.0.weight", s6, 1, buf, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
  g_assert_nonnull (strstr (error->message, "features.0.weight"));
  g_assert_nonnull (strstr (error->message, "missing"));
  g_assert_nonnull (strstr (error->message, "good2.safetensors"));
  g_clear_error (&error);
}

/* ---- broken files ------------------------------------------------------------------------ */

static void
test_truncated (Fixture *fx, gconstpointer unused)
{
  gsize offset, len;
  g_autofree char *path = write_good_file (fx, "full.safetensors", &offset);
  g_autofree char *contents = NULL;
  GError *error = NULL;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);

  /* Cut inside the data area: a tensor runs past the end. */
  {
    g_autofree char *cut = g_build_filename (fx->dir, "cut-data.safetensors", NULL);
    set_contents (cut, contents, offset + 30, &error);
    g_assert_no_error (error);
    expect_open_error (cut, NS_ERROR_WEIGHTS, "truncated");
  }
  /* Cut inside the header. */
  {
    g_autofree char *cut = g_build_filename (fx->dir, "cut-header.safetensors", NULL);
    set_contents (cut, contents, 40, &error);
    g_assert_no_error (error);
    expect_open_error (cut, NS_ERROR_WEIGHTS, "truncated");
  }
  /* Shorter than the length field. */
  {
    g_autofree char *cut = g_build_filename (fx->dir, "cut-5.safetensors", NULL);
    set_contents (cut, contents, 5, &error);
    g_assert_no_error (error);
    expect_open_error (cut, NS_ERROR_WEIGHTS, "too short");
  }
  /* Every other length fails cleanly too (the file only validates whole). */
  for (gsize n = 0; n < len; n++)
    {
      g_autofree char *cut = g_build_filename (fx->dir, "cut-n.safetensors", NULL);
      NsSafetensors *st;

      set_contents (cut, contents, n, &error);
      g_assert_no_error (error);
      st = ns_safetensors_open (cut, &error);
      g_assert_null (st);
      g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
      g_clear_error (&error);
    }
}

static void
test_empty_and_missing (Fixture *fx, gconstpointer unused)
{
  g_autofree char *empty = g_build_filename (fx->dir, "empty.safetensors", NULL);
  g_autofree char *missing = g_build_filename (fx->dir, "missing.safetensors", NULL);
  GError *error = NULL;

  set_contents (empty, "", 0, &error);
  g_assert_no_error (error);
  expect_open_error (empty, NS_ERROR_WEIGHTS, "too short");
  expect_open_error (missing, NS_ERROR_IO, "missing.safetensors");
  expect_open_error (fx->dir, NS_ERROR_IO, "directory");
}

static void
test_header_length (Fixture *fx, gconstpointer unused)
{
  const char *json = "{}";
  g_autofree char *absurd = write_raw (fx, "absurd.safetensors", G_GUINT64_CONSTANT (1) << 62,
                                       json, 2, NULL, 0);
  g_autofree char *max = write_raw (fx, "max.safetensors", G_MAXUINT64, json, 2, NULL, 0);
  g_autofree char *over = write_raw (fx, "over.safetensors", 100000001, json, 2, NULL, 0);
  g_autofree char *beyond = write_raw (fx, "beyond.safetensors", 3, json, 2, NULL, 0);
  g_autofree char *exact = write_raw (fx, "exact.safetensors", 2, json, 2, NULL, 0);
  g_autofree char *zero = write_raw (fx, "zero.safetensors", 0, json, 2, NULL, 0);
  GError *error = NULL;
  NsSafetensors *st;

  expect_open_error (absurd, NS_ERROR_WEIGHTS, "absurd");
  expect_open_error (max, NS_ERROR_WEIGHTS, "absurd");
  expect_open_error (over, NS_ERROR_WEIGHTS, "absurd");
  expect_open_error (beyond, NS_ERROR_WEIGHTS, "exceeds");
  expect_open_error (zero, NS_ERROR_WEIGHTS, "JSON");

  /* "{}" followed by two data bytes no tensor claims: valid, with no tensors. */
  st = ns_safetensors_open (exact, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ns_safetensors_get_n_tensors (st), ==, 0);
  ns_safetensors_close (st);
}

typedef struct
{
  const char *json;
  gsize       data_len;
  const char *word;
} BadCase;

static void
test_bad_json (Fixture *fx, gconstpointer unused)
{
  static const BadCase cases[] = {
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, "JSON" },
    { "{\"a\" {\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "JSON" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,],\"data_offsets\":[0,4]}}", 4, "JSON" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", 4, "JSON" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 4, "leading zero" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", 4, "after" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}\0", 4, "JSON" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":tru}}", 4, "JSON" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1.}}", 4, "JSON" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1e}}", 4, "exponent" },
    { "{\"a\\q\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "escape" },
    { "{\"a\\u12\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "escape" },
    { "{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "surrogate" },
    { "{\"a\\udc00\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "surrogate" },
    { "{\"a\\u0000\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "NUL" },
    { "{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "UTF-8" },
    { "{\"a\x01\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "control" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]", 4, "end" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "twice" },
    { "[1, 2]", 0, "not a JSON object" },
    { "\"x\"", 0, "not a JSON object" },
    { "", 0, "JSON" },
    { "   ", 0, "JSON" },
    { "{\"a\":[1]}", 0, "must be an object" },
    { "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "no dtype" },
    { "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "no shape" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "no data_offsets" },
    { "{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", 4, "array" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "non-negative" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", 4, "non-negative" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", 4, "numbers" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4,
      "too large" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
      "dimensions" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", 8, "two numbers" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 8, "two numbers" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
      "\"__metadata__\":{\"k\":1}}", 4, "__metadata__" },
    { "{\"__metadata__\":[]}", 0, "__metadata__" },
    { "{\"__metadata__\":{},\"__metadata__\":{}}", 0, "__metadata__" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("bad-json-%" G_GSIZE_FORMAT ".safetensors", i);
      /* Case 6 holds an embedded NUL: write the byte after the brace too. */
      gsize json_len = strlen (cases[i].json) + (i == 6 ? 1 : 0);
      g_autofree guint8 *data = g_malloc0 (cases[i].data_len + 1);
      g_autofree char *path = write_raw (fx, name, json_len, cases[i].json, json_len,
                                         data, cases[i].data_len);
      g_autofree char *shown = g_strescape (cases[i].json, NULL);
      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, shown);
      expect_open_error (path, NS_ERROR_WEIGHTS, cases[i].word);
    }
}

static void
test_deep_nesting (Fixture *fx, gconstpointer unused)
{
  g_autoptr (GString) json = g_string_new ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                                           "\"data_offsets\":[0,4],\"x\":");
  g_autofree char *path = NULL;
  g_autofree char *ok_path = NULL;
  GError *error = NULL;
  NsSafetensors *st;

  /* 100 000 levels would overflow the stack of a naive recursive parser. */
  for (int i = 0; i < 100000; i++)
    g_string_append_c (json, '[');
  for (int i = 0; i < 100000; i++)
    g_string_append_c (json, ']');
  g_string_append (json, "}}");
  path = write_json (fx, "deep.safetensors", json->str, 4);
  expect_open_error (path, NS_ERROR_WEIGHTS, "deep");

  /* Modest nesting in an unused key is fine. */
  g_string_assign (json, "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":");
  for (int i = 0; i < 20; i++)
    g_string_append (json, "[{\"k\":");
  g_string_append (json, "null");
  for (int i = 0; i < 20; i++)
    g_string_append (json, "}]");
  g_string_append (json, "}}");
  ok_path = write_json (fx, "nested-ok.safetensors", json->str, 4);
  st = ns_safetensors_open (ok_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ns_safetensors_get_n_tensors (st), ==, 1);
  ns_safetensors_close (st);
}

static void
test_bad_entries (Fixture *fx, gconstpointer unused)
{
  static const BadCase cases[] = {
    /* offsets beyond the data area */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "outside" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[9,9]}}", 4, "outside" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[9223372036854775800,"
      "9223372036854775804]}}", 4, "outside" },
    /* overlapping tensors, in either order */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap" },
    { "{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]},"
      "\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}", 12, "overlap" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]},"
      "\"c\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 20, "overlap" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
      "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "overlap" },
    /* begin after end */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "begin" },
    /* byte count does not match shape × dtype */
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 12, "does not match" },
    { "{\"a\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,12]}}", 12, "does not match" },
    { "{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12, "does not match" },
    { "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
      "\"data_offsets\":[0,4]}}", 4, "too large" },
    /* unknown dtypes */
    { "{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype" },
    { "{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype" },
    { "{\"a\":{\"dtype\":\"\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "unknown dtype" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("bad-entry-%" G_GSIZE_FORMAT ".safetensors", i);
      g_autofree char *path = write_json (fx, name, cases[i].json, cases[i].data_len);
      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, cases[i].json);
      expect_open_error (path, NS_ERROR_WEIGHTS, cases[i].word);
    }
}

/* Adjacent tensors, a gap, and zero-sized tensors anywhere are all legal. */
static void
test_edge_layouts (Fixture *fx, gconstpointer unused)
{
  const char *json =
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
    "\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]},"
    "\"c\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
    "\"d\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[15,16]}}";
  g_autofree char *path = write_json (fx, "edge.safetensors", json, 16);
  GError *error = NULL;
  g_autoptr (NsSafetensors) st = ns_safetensors_open (path, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (ns_safetensors_get_n_tensors (st), ==, 4);
  g_assert_cmpstr (ns_safetensors_find (st, "b")->dtype_name, ==, "U8");
  g_assert_cmpuint (ns_safetensors_find (st, "d")->n_bytes, ==, 1);
}

/* Random corruption of a good file's header: the reader must fail cleanly or succeed, and
 * under AddressSanitizer never touch memory outside the mapping. */
static void
test_mutations (Fixture *fx, gconstpointer unused)
{
  gsize offset, len;
  g_autofree char *path = write_good_file (fx, "mutate-src.safetensors", &offset);
  g_autofree char *mutant = g_build_filename (fx->dir, "mutant.safetensors", NULL);
  g_autofree char *contents = NULL;
  GError *error = NULL;
  GRand *rand = g_rand_new_with_seed (1234);
  int opened = 0, failed = 0;
  static const char alphabet[] = "{}[]\",:0123456789-.eE \\utrfnal\x01\xff";

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  for (int round = 0; round < 3000; round++)
    {
      g_autofree char *copy = g_memdup2 (contents, len);
      int n_changes = g_rand_int_range (rand, 1, 4);
      NsSafetensors *st;

      for (int k = 0; k < n_changes; k++)
        {
          gsize at = (gsize) g_rand_int_range (rand, 8, (gint32) offset);
          copy[at] = alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];
        }
      set_contents (mutant, copy, len, &error);
      g_assert_no_error (error);
      st = ns_safetensors_open (mutant, &error);
      if (st != NULL)
        {
          /* Whatever opened must be readable within bounds. */
          for (guint i = 0; i < ns_safetensors_get_n_tensors (st); i++)
            {
              const NsSafetensorsTensor *t = ns_safetensors_get_tensor (st, i);
              g_autofree float *buf = g_malloc (t->n_bytes * 2 + 4);
              if (ns_safetensors_read_f32 (st, t->name, t->shape, t->n_dims, buf, &error))
                g_assert_cmpint (t->dtype, !=, NS_DTYPE_OTHER);
              else
                g_clear_error (&error);
            }
          ns_safetensors_close (st);
          opened++;
        }
      else
        {
          g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
          g_clear_error (&error);
          failed++;
        }
    }
  g_rand_free (rand);
  g_test_message ("mutants: %d opened, %d rejected", opened, failed);
  g_assert_cmpint (failed, >, 0);
}

/* A zero-element tensor reads into a zero-length buffer, which may be NULL: no copy may be
 * attempted, since memcpy (NULL, src, 0) is undefined (UBSan stops the -asan run). */
static void
test_zero_elements (Fixture *fx, gconstpointer unused)
{
  static const char json[] =
    "{\"features.0.weight\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}";
  g_autofree char *path = write_json (fx, "zero.safetensors", json, 0);
  const gint64 shape[1] = { 0 };
  g_autoptr (NsSafetensors) st = NULL;
  float *dst = NULL;                            /* what g_malloc (0) gives ns_weights_trim */
  GStatBuf sb;
  GError *error = NULL;

  g_assert_cmpint (g_stat (path, &sb), ==, 0);
  g_assert_cmpint (sb.st_size, ==, 78);       /* the file of issue 13 */
  st = ns_safetensors_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ns_safetensors_find (st, "features.0.weight")->n_bytes, ==, 0);
  g_assert_true (ns_safetensors_read_f32 (st, "features.0.weight", shape, 1, dst, &error));
  g_assert_no_error (error);
}

/* ---- writer ------------------------------------------------------------------------------ */

static void
test_writer (Fixture *fx, gconstpointer unused)
{
  g_autofree char *path = g_build_filename (fx->dir, "written.safetensors", NULL);
  g_autofree char *tmp = g_strconcat (path, ".tmp", NULL);
  g_autofree char *contents = NULL;
  float zeta[2] = { 1.0f, -2.0f }, alpha[3] = { 0.5f, 0.25f, -0.0f }, mid = 7.0f;
  float quoted[1] = { 3.0f };
  NsSafetensorsEntry entries[] = {
    { "zeta", 1, { 2 }, zeta },
    { "alpha", 2, { 1, 3 }, alpha },
    { "mid", 0, { 0 }, &mid },
    { "q\"b\\s\n", 1, { 1 }, quoted },
    { "empty", 2, { 0, 4 }, NULL },
  };
  gint64 s2[1] = { 2 }, s13[2] = { 1, 3 }, s1[1] = { 1 };
  GError *error = NULL;
  gsize len;
  guint64 header_len = 0;
  const char *pa, *pm, *pz;
  float got[3];

  /* Overwrites an existing file. */
  set_contents (path, "old", 3, &error);
  g_assert_no_error (error);
  g_assert_true (ns_safetensors_write (path, entries, G_N_ELEMENTS (entries), &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (tmp, G_FILE_TEST_EXISTS));

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 8; i++)
    header_len |= (guint64) (guint8) contents[i] << (8 * i);
  g_assert_cmpuint (header_len % 8, ==, 0);
  g_assert_cmpuint (8 + header_len + 4 * (2 + 3 + 1 + 1), ==, len);
  /* The padding is spaces, and tensors are sorted by name: alpha, empty, mid, q…, zeta. */
  {
    const char *close = contents + 8 + header_len - 1;
    while (*close == ' ')
      close--;
    g_assert_cmpint (*close, ==, '}');
    g_assert_cmpint (contents + 8 + header_len - 1 - close, <, 8);
  }
  pa = g_strstr_len (contents + 8, header_len, "\"alpha\"");
  pm = g_strstr_len (contents + 8, header_len, "\"mid\"");
  pz = g_strstr_len (contents + 8, header_len, "\"zeta\"");
  g_assert_true (pa != NULL && pm != NULL && pz != NULL);
  g_assert_true (pa < pm && pm < pz);
  /* Data in name order: alpha's three floats first. */
  g_assert_cmpmem (contents + 8 + header_len, 12, alpha, 12);

  {
    g_autoptr (NsSafetensors) st = ns_safetensors_open (path, &error);
    const NsSafetensorsTensor *t;

    g_assert_no_error (error);
    g_assert_cmpuint (ns_safetensors_get_n_tensors (st), ==, 5);
    t = ns_safetensors_find (st, "alpha");
    g_assert_cmpuint (GPOINTER_TO_SIZE (t->data) % 8, ==, 0);   /* data area 8-aligned */
    g_assert_true (ns_safetensors_read_f32 (st, "alpha", s13, 2, got, &error));
    g_assert_cmpmem (got, 12, alpha, 12);
    g_assert_true (ns_safetensors_read_f32 (st, "zeta", s2, 1, got, &error));
    g_assert_cmpmem (got, 8, zeta, 8);
    g_assert_true (ns_safetensors_read_f32 (st, "mid", NULL, 0, got, &error));
    g_assert_cmpfloat (got[0], ==, 7.0f);
    g_assert_true (ns_safetensors_read_f32 (st, "q\"b\\s\n", s1, 1, got, &error));
    g_assert_cmpfloat (got[0], ==, 3.0f);
    g_assert_no_error (error);
    g_assert_cmpuint (ns_safetensors_find (st, "empty")->n_bytes, ==, 0);
  }
}

static void
test_writer_errors (Fixture *fx, gconstpointer unused)
{
  g_autofree char *path = g_build_filename (fx->dir, "w.safetensors", NULL);
  g_autofree char *bad_dir = g_build_filename (fx->dir, "no", "such", "dir", "w.safetensors", NULL);
  float v[1] = { 1.0f };
  NsSafetensorsEntry dup[] = { { "x", 1, { 1 }, v }, { "x", 1, { 1 }, v } };
  NsSafetensorsEntry meta[] = { { "__metadata__", 1, { 1 }, v } };
  NsSafetensorsEntry neg[] = { { "n", 1, { -1 }, v } };
  NsSafetensorsEntry ok[] = { { "x", 1, { 1 }, v } };
  GError *error = NULL;

  g_assert_false (ns_safetensors_write (path, dup, 2, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ns_safetensors_write (path, meta, 1, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (ns_safetensors_write (path, neg, 1, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  g_assert_false (ns_safetensors_write (bad_dir, ok, 1, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "w.safetensors"));
  g_clear_error (&error);
}

/* A file or link already under the old fixed temporary name "PATH.tmp" is left alone: the
 * writer creates its own temporary exclusively, and none is left behind. */
static void
test_writer_decoys (Fixture *fx, gconstpointer unused)
{
  g_autofree char *path = g_build_filename (fx->dir, "w.safetensors", NULL);
  g_autofree char *decoy = g_strconcat (path, ".tmp", NULL);
  g_autofree char *victim = g_build_filename (fx->dir, "victim", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *target = NULL;
  float v[1] = { 1.0f };
  NsSafetensorsEntry ok[] = { { "x", 1, { 1 }, v } };
  GError *error = NULL;
  GDir *dir;
  const char *name;
  int n_files = 0;

  set_contents (victim, "precious", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (symlink (victim, decoy), ==, 0);
  g_assert_true (ns_safetensors_write (path, ok, 1, &error));
  g_assert_no_error (error);

  g_assert_true (g_file_get_contents (victim, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "precious");
  target = g_file_read_link (decoy, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (target, ==, victim);
  dir = g_dir_open (fx->dir, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    n_files++;
  g_dir_close (dir);
  g_assert_cmpint (n_files, ==, 3);       /* the result, the decoy and its victim */
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) g_test_add ("/safetensors/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("good-file", test_good_file);
  ADD ("read-errors", test_read_errors);
  ADD ("truncated", test_truncated);
  ADD ("empty-and-missing", test_empty_and_missing);
  ADD ("header-length", test_header_length);
  ADD ("bad-json", test_bad_json);
  ADD ("deep-nesting", test_deep_nesting);
  ADD ("bad-entries", test_bad_entries);
  ADD ("edge-layouts", test_edge_layouts);
  ADD ("mutations", test_mutations);
  ADD ("zero-elements", test_zero_elements);
  ADD ("writer", test_writer);
  ADD ("writer-errors", test_writer_errors);
  ADD ("writer-decoys", test_writer_decoys);
#undef ADD

  return g_test_run ();
}
