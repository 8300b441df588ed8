/* seeds-safetensors.c — the seed corpus of fuzz-safetensors (NS_FUZZ_MAKE_SEEDS=DIR).
 *
 * Complete weights files for the small VGG-19 of tiny-vgg19.h (F32 through the engine's own
 * writer; F16/BF16 with extra tensors and metadata written by hand, as a full checkpoint
 * would be), a file with every feature the reader accepts, and a few that open but cannot
 * be loaded or trimmed.  Together they reach the end of every code path of the target. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny-vgg19.h"

void fuzz_make_seeds (const char *dir);

/* A header being built by hand, with the data area it describes. */
typedef struct
{
  GString    *json;
  GByteArray *data;
} Raw;

static Raw
raw_new (const char *metadata)
{
  Raw raw = { g_string_new ("{"), g_byte_array_new () };

  if (metadata != NULL)
    g_string_append_printf (raw.json, "\"__metadata__\":%s", metadata);
  return raw;
}

/* Adds a tensor; `extra` (may be NULL) is appended inside its entry. */
static void
raw_add (Raw *raw, const char *name, const char *dtype, const char *shape,
         const void *bytes, gsize n_bytes, const char *extra)
{
  guint begin = raw->data->len;

  if (raw->json->len > 1)
    g_string_append_c (raw->json, ',');
  g_string_append_printf (raw->json, "\"%s\":{\"dtype\":\"%s\",\"shape\":%s,"
                          "\"data_offsets\":[%u,%u]%s%s}", name, dtype, shape, begin,
                          begin + (guint) n_bytes, extra ? "," : "", extra ? extra : "");
  g_byte_array_append (raw->data, bytes, (guint) n_bytes);
}

static void
raw_write (Raw *raw, const char *dir, const char *name, int align)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GByteArray *file = g_byte_array_new ();
  GError *error = NULL;
  guint8 len[8];

  g_string_append_c (raw->json, '}');
  /* align 0: leave the data area wherever it falls. */
  while (align > 0 && (8 + raw->json->len) % align != 0)
    g_string_append_c (raw->json, ' ');
  for (int i = 0; i < 8; i++)
    len[i] = (guint8) ((guint64) raw->json->len >> (8 * i));
  g_byte_array_append (file, len, 8);
  g_byte_array_append (file, (const guint8 *) raw->json->str, (guint) raw->json->len);
  g_byte_array_append (file, raw->data->data, raw->data->len);
  if (!g_file_set_contents (path, (const char *) file->data, file->len, &error))
    g_error ("%s", error->message);
  g_byte_array_unref (file);
  g_string_free (raw->json, TRUE);
  g_byte_array_unref (raw->data);
}

static float
value (int layer, gsize i)
{
  return 0.25f * sinf (0.7f * (float) i + (float) layer);
}

/* F32 → F16 / BF16 bits by truncation: exact enough for seeds. */
static guint16
to_bf16 (float f)
{
  guint32 b;
  memcpy (&b, &f, 4);
  return (guint16) (b >> 16);
}

static guint16
to_f16 (float f)
{
  int e;
  float m = frexpf (fabsf (f), &e);       /* f = m · 2^e, m in [0.5, 1) */
  guint16 sign = f < 0 ? 0x8000 : 0;

  if (f == 0.0f || e < -13)
    return sign;
  return sign | (guint16) ((e + 14) << 10) | (guint16) ((m * 2.0f - 1.0f) * 1024.0f);
}

static void
write_tiny_f32 (const char *dir, NsNetwork *net)
{
  g_autofree char *path = g_build_filename (dir, "tiny-vgg19-f32.safetensors", NULL);
  GArray *entries = g_array_new (FALSE, TRUE, sizeof (NsSafetensorsEntry));
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GError *error = NULL;

  for (int i = 0; i < net->n_layers; i++)
    {
      NsConv *conv = &net->layers[i].conv;
      NsSafetensorsEntry w = { 0 }, b = { 0 };
      gsize nw = (gsize) conv->cout * conv->cin * 9;

      if (net->layers[i].kind != NS_LAYER_CONV)
        continue;
      for (gsize k = 0; k < nw; k++)
        conv->weight[k] = value (i, k);
      for (int k = 0; k < conv->cout; k++)
        conv->bias[k] = 0.01f * (float) k;
      w.name = g_strdup_printf ("features.%d.weight", i);
      b.name = g_strdup_printf ("features.%d.bias", i);
      g_ptr_array_add (names, (gpointer) w.name);
      g_ptr_array_add (names, (gpointer) b.name);
      w.n_dims = 4;
      w.shape[0] = conv->cout;
      w.shape[1] = conv->cin;
      w.shape[2] = w.shape[3] = 3;
      w.data = conv->weight;
      b.n_dims = 1;
      b.shape[0] = conv->cout;
      b.data = conv->bias;
      g_array_append_val (entries, w);
      g_array_append_val (entries, b);
    }
  if (!ns_safetensors_write (path, (NsSafetensorsEntry *) entries->data, entries->len, &error))
    g_error ("%s", error->message);
  g_array_unref (entries);
  g_ptr_array_unref (names);
}

/* A whole checkpoint as torchvision saves it: F16 weights, BF16 biases, a classifier and
 * an integer counter that trimming drops, metadata, tensors not in name order. */
static void
write_tiny_half (const char *dir, NsNetwork *net)
{
  Raw raw = raw_new ("{\"format\":\"pt\",\"source\":\"neural-style fuzz seed\"}");
  static const float classifier[4] = { 1.0f, -1.0f, 0.5f, 2.0f };
  gint64 counter = 7;

  raw_add (&raw, "classifier.0.weight", "F32", "[2,2]", classifier, sizeof classifier, NULL);
  for (int i = net->n_layers - 1; i >= 0; i--)
    {
      NsConv *conv = &net->layers[i].conv;
      gsize nw = (gsize) conv->cout * conv->cin * 9;
      g_autofree guint16 *w = NULL, *b = NULL;
      g_autofree char *wname = NULL, *bname = NULL, *wshape = NULL, *bshape = NULL;

      if (net->layers[i].kind != NS_LAYER_CONV)
        continue;
      w = g_new (guint16, nw);
      b = g_new (guint16, conv->cout);
      for (gsize k = 0; k < nw; k++)
        w[k] = GUINT16_TO_LE (to_f16 (value (i, k)));
      for (int k = 0; k < conv->cout; k++)
        b[k] = GUINT16_TO_LE (to_bf16 (0.01f * (float) k));
      wname = g_strdup_printf ("features.%d.weight", i);
      bname = g_strdup_printf ("features.%d.bias", i);
      wshape = g_strdup_printf ("[%d,%d,3,3]", conv->cout, conv->cin);
      bshape = g_strdup_printf ("[%d]", conv->cout);
      raw_add (&raw, bname, "BF16", bshape, b, conv->cout * 2, NULL);
      raw_add (&raw, wname, "F16", wshape, w, nw * 2, i == 0 ? "\"requires_grad\":false" : NULL);
    }
  raw_add (&raw, "num_batches_tracked", "I64", "[]", &counter, sizeof counter, NULL);
  raw_write (&raw, dir, "tiny-vgg19-half.safetensors", 8);
}

/* Every feature of the format the reader accepts, with the data misaligned. */
static void
write_features (const char *dir)
{
  Raw raw = raw_new ("{\"n\\u00e9\":\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\\ud83d\\ude00\"}");
  static const float f32[6] = { 1.5f, -2.25f, 0.0f, 3.0e-8f, 1.0e30f, -0.0f };
  static const guint16 f16[7] = { 0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF, 0x8000, 0x7E01 };
  static const guint16 bf16[4] = { 0x3F80, 0xC049, 0x0001, 0x7F80 };
  static const guint8 bytes[3] = { 1, 2, 255 };
  static const gint32 i32[2] = { -1, 5 };

  raw_add (&raw, "a.f32", "F32", "[2, 3]", f32, sizeof f32,
           "\"extra\":[1,{\"x\":null,\"y\":[true,false]},-1.5e3,0.25E+2,\"s\"]");
  raw_add (&raw, "b.f16", "F16", "[7]", f16, sizeof f16, NULL);
  raw_add (&raw, "c.bf16", "BF16", "[2,2]", bf16, sizeof bf16, NULL);
  raw_add (&raw, "d.u8", "U8", "[3]", bytes, sizeof bytes, NULL);
  raw_add (&raw, "e.bool", "BOOL", "[1,1,1]", bytes, 1, NULL);
  raw_add (&raw, "f.i32", "I32", "[2]", i32, sizeof i32, NULL);
  raw_add (&raw, "z.empty", "F32", "[0, 5]", NULL, 0, NULL);
  raw_add (&raw, "w\\u00e9ights\\/\\ud83d\\ude00", "F32", "[]", f32, 4, NULL);
  raw_add (&raw, "features.3.bias", "F16", "[1,1,1,1,1,1,1,2]", f16, 4, NULL);
  raw_write (&raw, dir, "features.safetensors", 0);
}

/* Opens, but the convolution tensor is not a float: loading and trimming fail. */
static void
write_int_conv (const char *dir)
{
  Raw raw = raw_new (NULL);
  static const guint8 w[54] = { 0 };
  static const float b[2] = { 0.5f, -0.5f };

  raw_add (&raw, "features.0.weight", "I8", "[2,3,3,3]", w, sizeof w, NULL);
  raw_add (&raw, "features.0.bias", "F32", "[2]", b, sizeof b, NULL);
  raw_write (&raw, dir, "int-conv.safetensors", 8);
}

/* The first layer of the tiny network only: trimmed, then the loader stops at layer 2. */
static void
write_first_layer (const char *dir)
{
  Raw raw = raw_new ("{}");
  float w[81], b[3] = { 0.1f, 0.2f, 0.3f };

  for (int k = 0; k < 81; k++)
    w[k] = value (0, k);
  raw_add (&raw, "features.0.weight", "F32", "[3,3,3,3]", w, sizeof w, NULL);
  raw_add (&raw, "features.0.bias", "F32", "[3]", b, sizeof b, NULL);
  raw_write (&raw, dir, "first-layer.safetensors", 8);
}

/* A header given as text, then `data`. */
static void
write_text (const char *dir, const char *name, const char *header, const char *data)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  GByteArray *file = g_byte_array_new ();
  GError *error = NULL;
  guint8 len[8];

  for (int i = 0; i < 8; i++)
    len[i] = (guint8) ((guint64) strlen (header) >> (8 * i));
  g_byte_array_append (file, len, 8);
  g_byte_array_append (file, (const guint8 *) header, (guint) strlen (header));
  g_byte_array_append (file, (const guint8 *) data, (guint) strlen (data));
  if (!g_file_set_contents (path, (const char *) file->data, file->len, &error))
    g_error ("%s", error->message);
  g_byte_array_unref (file);
}

void
fuzz_make_seeds (const char *dir)
{
  NsNetwork *net = tiny_vgg19_new ();

  write_tiny_f32 (dir, net);
  write_tiny_half (dir, net);
  write_features (dir);
  write_int_conv (dir);
  write_first_layer (dir);
  write_text (dir, "empty-object.safetensors", "{}      ", "");
  /* Rejected: the two tensors share bytes. */
  write_text (dir, "overlap-bad.safetensors",
              "{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
              "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", "abcd");
  /* Rejected: the element count, then the byte count, overflows 64 bits. */
  write_text (dir, "shape-overflow-bad.safetensors",
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
              "\"data_offsets\":[0,0]}}", "");
  write_text (dir, "bytes-overflow-bad.safetensors",
              "{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],"
              "\"data_offsets\":[0,0]}}", "");
  ns_network_unref (net);
}
