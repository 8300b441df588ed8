/* test-download.c — ns_weights_download through file:// URLs (curl, no network). */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "ns-internal.h"
#include "testutil.h"

/* VGG-19's 16 convolutions: feature index, input and output channels (torchvision "E"). */
static const int conv_index[16] = { 0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34 };
static const int conv_cin[16]   = { 3, 64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512,
                                    512, 512, 512, 512 };
static const int conv_cout[16]  = { 64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512,
                                    512, 512, 512, 512 };

static char *tmp_root;

/* The value stored at element i of tensor `tag`: cheap to make and to check again. */
static inline float
pattern (gsize i, int tag)
{
  return (float) ((gint64) ((i * 2654435761u + (guint) tag * 40503u) % 4093u) - 2046) / 1024.0f;
}

static float *
pattern_new (gsize n, int tag)
{
  float *v = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    v[i] = pattern (i, tag);
  return v;
}

static gboolean
matches_pattern (const float *v, gsize n, int tag)
{
  for (gsize i = 0; i < n; i++)
    if (v[i] != pattern (i, tag))
      return FALSE;
  return TRUE;
}

static gsize
weight_count (int k)
{
  return (gsize) conv_cout[k] * conv_cin[k] * 9;
}

/* Writes a checkpoint with every VGG-19 conv at its real shape (about 80 MB) plus the
 * classifier tensors a timm file also holds. */
static char *
write_vgg19_fixture (const char *name, int bad_layer)
{
  char *path = g_build_filename (tmp_root, name, NULL);
  NsSafetensorsEntry entries[36];
  GPtrArray *buffers = g_ptr_array_new_with_free_func (g_free);
  guint n = 0;
  GError *error = NULL;

  for (int k = 0; k < 16; k++)
    {
      NsSafetensorsEntry w = { 0 }, b = { 0 };
      char *wname = g_strdup_printf ("features.%d.weight", conv_index[k]);
      char *bname = g_strdup_printf ("features.%d.bias", conv_index[k]);
      float *wdata = pattern_new (weight_count (k), 2 * k);
      float *bdata = pattern_new ((gsize) conv_cout[k], 2 * k + 1);

      g_ptr_array_add (buffers, wname);
      g_ptr_array_add (buffers, bname);
      g_ptr_array_add (buffers, wdata);
      g_ptr_array_add (buffers, bdata);
      w.name = wname;
      w.n_dims = 4;
      w.shape[0] = conv_cout[k];
      w.shape[1] = conv_cin[k];
      w.shape[2] = k == bad_layer ? 1 : 3;    /* 1×1 "conv": right size class, wrong shape */
      w.shape[3] = k == bad_layer ? 9 : 3;
      w.data = wdata;
      b.name = bname;
      b.n_dims = 1;
      b.shape[0] = conv_cout[k];
      b.data = bdata;
      entries[n++] = w;
      entries[n++] = b;
    }
  {
    float *head = pattern_new (1000 * 16, 99);
    float *pre = pattern_new (16, 98);
    g_ptr_array_add (buffers, head);
    g_ptr_array_add (buffers, pre);
    entries[n++] = (NsSafetensorsEntry) { "head.fc.weight", 2, { 1000, 16 }, head };
    entries[n++] = (NsSafetensorsEntry) { "pre_logits.fc1.bias", 1, { 16 }, pre };
  }
  g_assert_true (ns_safetensors_write (path, entries, n, &error));
  g_assert_no_error (error);
  g_ptr_array_unref (buffers);
  return path;
}

static char *
sha256_of (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len;
  GError *error = NULL;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
}

static char *
file_url (const char *path)
{
  GError *error = NULL;
  char *url = g_filename_to_uri (path, NULL, &error);
  g_assert_no_error (error);
  return url;
}

typedef struct
{
  int     calls;
  guint64 last_done, last_total;
  gboolean decreasing;
  int     cancel_at;      /* return FALSE from this call on (0 = never) */
} ProgressLog;

static gboolean
on_progress (guint64 done, guint64 total, gpointer user_data)
{
  ProgressLog *log = user_data;
  if (done < log->last_done)
    log->decreasing = TRUE;
  log->calls++;
  log->last_done = done;
  log->last_total = total;
  return log->cancel_at == 0 || log->calls < log->cancel_at;
}

/* No temporary (DEST.<anything>) is left beside dest; the decoys planted under the old
 * fixed names DEST.part and DEST.tmp, when `decoys`, are still there as links. */
static void
assert_no_leftovers_but (const char *dest, gboolean decoys)
{
  g_autofree char *dir = g_path_get_dirname (dest);
  g_autofree char *base = g_path_get_basename (dest);
  g_autofree char *prefix = g_strconcat (base, ".", NULL);
  g_autofree char *part = g_strconcat (base, ".part", NULL);
  g_autofree char *tmp = g_strconcat (base, ".tmp", NULL);
  int n_decoys = 0;
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;           /* not even the folder */
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (!g_str_has_prefix (name, prefix))
        continue;
      if (decoys && (strcmp (name, part) == 0 || strcmp (name, tmp) == 0)
          && g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        n_decoys++;
      else
        g_error ("left behind: %s", path);
    }
  g_dir_close (d);
  g_assert_cmpint (n_decoys, ==, decoys ? 2 : 0);
}

static void
assert_no_leftovers (const char *dest)
{
  assert_no_leftovers_but (dest, FALSE);
}

static void
test_good (void)
{
  g_autofree char *src = write_vgg19_fixture ("model.safetensors", -1);
  g_autofree char *url = file_url (src);
  g_autofree char *sha = sha256_of (src);
  g_autofree char *sha_upper = g_ascii_strup (sha, -1);
  g_autofree char *dest = g_build_filename (tmp_root, "data", "neural-style", "vgg19.safetensors",
                                            NULL);
  ProgressLog log = { 0 };
  GError *error = NULL;
  GStatBuf sb;
  g_autoptr (NsSafetensors) st = NULL;
  gint64 t0 = g_get_monotonic_time ();

  g_assert_cmpint (g_stat (src, &sb), ==, 0);
  /* The hash is compared case-insensitively; the folder does not exist yet. */
  g_assert_true (ns_weights_download (url, sha_upper, dest, on_progress, &log, &error));
  g_assert_no_error (error);
  g_test_message ("download + verify + trim of %.1f MB: %.2f s", sb.st_size / 1e6,
                  (g_get_monotonic_time () - t0) / 1e6);
  assert_no_leftovers (dest);

  g_assert_cmpint (log.calls, >=, 1);
  g_assert_false (log.decreasing);
  g_assert_cmpuint (log.last_done, ==, (guint64) sb.st_size);
  g_assert_cmpuint (log.last_total, ==, (guint64) sb.st_size);

  st = ns_safetensors_open (dest, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ns_safetensors_get_n_tensors (st), ==, 32);
  g_assert_null (ns_safetensors_find (st, "head.fc.weight"));
  g_assert_null (ns_safetensors_find (st, "pre_logits.fc1.bias"));
  for (int k = 0; k < 16; k++)
    {
      g_autofree char *wname = g_strdup_printf ("features.%d.weight", conv_index[k]);
      g_autofree char *bname = g_strdup_printf ("features.%d.bias", conv_index[k]);
      const gint64 wshape[4] = { conv_cout[k], conv_cin[k], 3, 3 };
      const gint64 bshape[1] = { conv_cout[k] };
      g_autofree float *w = g_new (float, weight_count (k));
      g_autofree float *b = g_new (float, conv_cout[k]);

      g_assert_true (ns_safetensors_read_f32 (st, wname, wshape, 4, w, &error));
      g_assert_true (ns_safetensors_read_f32 (st, bname, bshape, 1, b, &error));
      g_assert_no_error (error);
      g_assert_true (matches_pattern (w, weight_count (k), 2 * k));
      g_assert_true (matches_pattern (b, conv_cout[k], 2 * k + 1));
    }
  g_unlink (src);
  g_unlink (dest);
}

static void
test_wrong_hash (void)
{
  g_autofree char *src = g_build_filename (tmp_root, "small.bin", NULL);
  g_autofree char *url = NULL;
  g_autofree char *sha = NULL;
  g_autofree char *dest = g_build_filename (tmp_root, "wrong-hash", "vgg19.safetensors", NULL);
  g_autofree char *dest_dir = g_path_get_dirname (dest);
  g_autofree char *contents = NULL;
  const char *wrong = "0000000000000000000000000000000000000000000000000000000000000000";
  GError *error = NULL;

  g_assert_true (g_file_set_contents (src, "some bytes that are not the weights", -1, NULL));
  url = file_url (src);
  sha = sha256_of (src);

  /* A previous good file at dest must survive a failed download. */
  g_assert_cmpint (g_mkdir_with_parents (dest_dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (dest, "previous", -1, NULL));

  g_assert_false (ns_weights_download (url, wrong, dest, NULL, NULL, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_DOWNLOAD);
  g_assert_nonnull (strstr (error->message, wrong));
  g_assert_nonnull (strstr (error->message, sha));
  g_assert_nonnull (strstr (error->message, "SHA-256"));
  g_clear_error (&error);
  assert_no_leftovers (dest);
  g_assert_true (g_file_get_contents (dest, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "previous");

  /* Without an existing file, nothing is left behind. */
  g_unlink (dest);
  g_assert_false (ns_weights_download (url, wrong, dest, NULL, NULL, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_DOWNLOAD);
  g_clear_error (&error);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  assert_no_leftovers (dest);
  g_unlink (src);
}

static void
test_missing_url (void)
{
  g_autofree char *missing = g_build_filename (tmp_root, "does-not-exist.safetensors", NULL);
  g_autofree char *url = file_url (missing);
  g_autofree char *dest = g_build_filename (tmp_root, "missing", "vgg19.safetensors", NULL);
  GError *error = NULL;

  g_assert_false (ns_weights_download (url, NS_VGG19_SHA256, dest, NULL, NULL, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_DOWNLOAD);
  g_assert_nonnull (strstr (error->message, url));
  g_assert_nonnull (strstr (error->message, "failed"));
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  assert_no_leftovers (dest);

  /* A scheme curl is told not to use. */
  g_assert_false (ns_weights_download ("ftp://127.0.0.1:1/x", NS_VGG19_SHA256, dest, NULL, NULL,
                                       &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_DOWNLOAD);
  g_clear_error (&error);
  assert_no_leftovers (dest);
}

/* The hash matches (the caller vouched for the file) but it is not VGG-19. */
static void
test_not_vgg19 (void)
{
  g_autofree char *src = write_vgg19_fixture ("odd.safetensors", 15);
  g_autofree char *url = file_url (src);
  g_autofree char *sha = sha256_of (src);
  g_autofree char *dest = g_build_filename (tmp_root, "odd", "vgg19.safetensors", NULL);
  g_autofree char *text = g_build_filename (tmp_root, "text.txt", NULL);
  g_autofree char *text_url = NULL;
  g_autofree char *text_sha = NULL;
  GError *error = NULL;

  g_assert_false (ns_weights_download (url, sha, dest, NULL, NULL, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_DOWNLOAD);
  g_assert_nonnull (strstr (error->message, "features.34.weight"));
  g_assert_nonnull (strstr (error->message, "wrong shape"));
  g_clear_error (&error);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  assert_no_leftovers (dest);
  g_unlink (src);

  g_assert_true (g_file_set_contents (text, "plain text", -1, NULL));
  text_url = file_url (text);
  text_sha = sha256_of (text);
  g_assert_false (ns_weights_download (text_url, text_sha, dest, NULL, NULL, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_WEIGHTS);
  g_clear_error (&error);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  assert_no_leftovers (dest);
}

/* Links planted under the old fixed temporary names (DEST.part for curl, DEST.tmp for the
 * trimmed file) are neither written through nor removed. */
static void
test_decoys (void)
{
  g_autofree char *src = write_vgg19_fixture ("decoy-src.safetensors", -1);
  g_autofree char *url = file_url (src);
  g_autofree char *sha = sha256_of (src);
  g_autofree char *dest = g_build_filename (tmp_root, "decoys", "vgg19.safetensors", NULL);
  g_autofree char *dir = g_path_get_dirname (dest);
  g_autofree char *part = g_strconcat (dest, ".part", NULL);
  g_autofree char *tmp = g_strconcat (dest, ".tmp", NULL);
  g_autofree char *victim_part = g_build_filename (tmp_root, "victim-part", NULL);
  g_autofree char *victim_tmp = g_build_filename (tmp_root, "victim-tmp", NULL);
  const char *victims[2] = { victim_part, victim_tmp };
  GError *error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (int i = 0; i < 2; i++)
    g_assert_true (g_file_set_contents (victims[i], "precious", -1, NULL));
  g_assert_cmpint (symlink (victim_part, part), ==, 0);
  g_assert_cmpint (symlink (victim_tmp, tmp), ==, 0);

  g_assert_true (ns_weights_download (url, sha, dest, NULL, NULL, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *contents = NULL;

      g_assert_true (g_file_get_contents (victims[i], &contents, NULL, NULL));
      g_assert_cmpstr (contents, ==, "precious");
    }
  g_assert_false (g_file_test (dest, G_FILE_TEST_IS_SYMLINK));
  assert_no_leftovers_but (dest, TRUE);
  g_unlink (src);
}

typedef struct
{
  char    *fifo;
  GMutex   lock;
  GCond    cond;
  gboolean done;
} SlowSource;

/* Feeds 1 MiB into the FIFO, then holds it open (curl waits for more) until told. */
static gpointer
slow_source (gpointer data)
{
  SlowSource *s = data;
  g_autofree char *chunk = g_malloc0 (1 << 20);
  FILE *f = g_fopen (s->fifo, "wb");
  gint64 until = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;

  g_assert_nonnull (f);
  fwrite (chunk, 1, 1 << 20, f);
  fflush (f);
  g_mutex_lock (&s->lock);
  while (!s->done && g_cond_wait_until (&s->cond, &s->lock, until))
    ;
  g_mutex_unlock (&s->lock);
  fclose (f);
  return NULL;
}

/* The progress callback stops the download: curl is stopped at once (not after the 60 s
 * the source takes), and nothing is left behind. */
static void
test_cancel (void)
{
  g_autofree char *fifo = g_build_filename (tmp_root, "slow.fifo", NULL);
  g_autofree char *url = file_url (fifo);
  g_autofree char *dest = g_build_filename (tmp_root, "cancel", "vgg19.safetensors", NULL);
  SlowSource source = { fifo };
  ProgressLog log = { .cancel_at = 5 };
  GError *error = NULL;
  GThread *thread;
  gint64 t0 = g_get_monotonic_time ();

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_mutex_init (&source.lock);
  g_cond_init (&source.cond);
  thread = g_thread_new ("slow-source", slow_source, &source);

  g_assert_false (ns_weights_download (url, NS_VGG19_SHA256, dest, on_progress, &log, &error));
  g_assert_error (error, NS_ERROR, NS_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpint (log.calls, ==, 5);
  g_assert_cmpuint (log.last_done, >, 0);              /* cancelled while curl was running */
  g_assert_cmpint (g_get_monotonic_time () - t0, <, 20 * G_TIME_SPAN_SECOND);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  assert_no_leftovers (dest);

  g_mutex_lock (&source.lock);
  source.done = TRUE;
  g_cond_signal (&source.cond);
  g_mutex_unlock (&source.lock);
  g_thread_join (thread);
  g_mutex_clear (&source.lock);
  g_cond_clear (&source.cond);
  g_unlink (fifo);

  /* Cancelled after curl has finished: the file is not checked nor kept. */
  {
    g_autofree char *src = g_build_filename (tmp_root, "quick.bin", NULL);
    g_autofree char *src_url = NULL;
    g_autofree char *src_sha = NULL;
    ProgressLog at_end = { .cancel_at = 1 };

    g_assert_true (g_file_set_contents (src, "some bytes", -1, NULL));
    src_url = file_url (src);
    src_sha = sha256_of (src);
    g_assert_false (ns_weights_download (src_url, src_sha, dest, on_progress, &at_end, &error));
    g_assert_error (error, NS_ERROR, NS_ERROR_CANCELLED);
    g_clear_error (&error);
    g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
    assert_no_leftovers (dest);
    g_unlink (src);
  }
}

/* A download into a full file system says so (curl itself only says it could not write),
 * and leaves nothing behind.  Needs a private mount namespace, so it runs in a child
 * under unshare(1) when that is allowed (as root), else it is skipped. */
static void
test_disk_full (void)
{
  g_autofree char *src = g_build_filename (tmp_root, "big.bin", NULL);
  g_autofree char *full = g_build_filename (tmp_root, "full", NULL);
  g_autofree char *dest = g_build_filename (full, "vgg19.safetensors", NULL);

  if (g_test_subprocess ())
    {
      g_autofree char *url = file_url (src);
      GError *error = NULL;

      g_assert_false (ns_weights_download (url, NS_VGG19_SHA256, dest, NULL, NULL, &error));
      g_assert_error (error, NS_ERROR, NS_ERROR_IO);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, g_strerror (ENOSPC)));
      g_assert_nonnull (strstr (error->message, full));
      g_assert_null (strstr (error->message, "network"));
      g_error_free (error);
      assert_no_leftovers (dest);
      return;
    }
  {
    g_autofree char *chunk = g_malloc0 (1 << 20);
    g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
    g_autofree char *script = NULL;
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    GError *error = NULL;
    int status;

    g_assert_true (g_file_set_contents (src, chunk, 1 << 20, NULL));
    g_assert_cmpint (g_mkdir_with_parents (full, 0755), ==, 0);
    /* The mount stays in the child's namespace: the folder's own mount is made private
     * there first (it may be shared with the rest of the system). */
    script = g_strdup_printf ("unshare -m --propagation unchanged true 2>/dev/null || exit 77; "
                              "unshare -m --propagation unchanged sh -c '"
                              "mount --make-rprivate \"$(findmnt -no TARGET -T %s)\" && "
                              "mount -t tmpfs -o size=256k tmpfs %s || exit 77; "
                              "exec %s -p /download/disk-full --GTestSubprocess --verbose'",
                              full, full, self);
    if (!g_spawn_sync (NULL, (char *[]) { "sh", "-c", script, NULL }, NULL,
                       G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error))
      g_error ("%s", error->message);
    if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
      {
        g_test_skip ("no private mount namespace here (needs root): cannot make a full disk");
        return;
      }
    g_test_message ("%s%s", out, err);
    g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  }
}

static void
test_bad_arguments (void)
{
  g_autofree char *dest = g_build_filename (tmp_root, "args", "vgg19.safetensors", NULL);
  const char *bad[] = { "", "abc", NS_VGG19_SHA256 "0",
                        "g1aea017b543ff59233749d8f1cf544cda749378f5790d2fedab841fb86b7669" };
  GError *error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (ns_weights_download ("file:///dev/null", bad[i], dest, NULL, NULL, &error));
      g_assert_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "SHA-256"));
      g_clear_error (&error);
    }
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
}

/* PATH is changed in a fresh subprocess: setenv is unsafe once threads exist. */
static void
test_no_curl (void)
{
  g_autofree char *empty = g_build_filename (tmp_root, "empty-path", NULL);
  g_autofree char *dest = g_build_filename (tmp_root, "no-curl", "vgg19.safetensors", NULL);

  if (g_test_subprocess ())
    {
      GError *error = NULL;

      g_setenv ("PATH", empty, TRUE);
      g_assert_false (ns_weights_download ("file:///dev/null", NS_VGG19_SHA256, dest, NULL, NULL,
                                           &error));
      g_assert_error (error, NS_ERROR, NS_ERROR_DOWNLOAD);
      g_assert_nonnull (strstr (error->message, "curl"));
      g_assert_nonnull (strstr (error->message, "was not found"));
      g_assert_nonnull (strstr (error->message, "--weights"));
      g_error_free (error);
      g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
      return;
    }
  g_assert_cmpint (g_mkdir_with_parents (empty, 0755), ==, 0);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  GError *error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  /* A subprocess reuses its parent's folder, handed over in the environment. */
  if (g_getenv ("NS_TEST_DOWNLOAD_ROOT") != NULL)
    tmp_root = g_strdup (g_getenv ("NS_TEST_DOWNLOAD_ROOT"));
  else
    {
      tmp_root = g_dir_make_tmp ("ns-download-XXXXXX", &error);
      g_assert_no_error (error);
      g_setenv ("NS_TEST_DOWNLOAD_ROOT", tmp_root, TRUE);
    }

  g_test_add_func ("/download/good", test_good);
  g_test_add_func ("/download/wrong-hash", test_wrong_hash);
  g_test_add_func ("/download/missing-url", test_missing_url);
  g_test_add_func ("/download/not-vgg19", test_not_vgg19);
  g_test_add_func ("/download/bad-arguments", test_bad_arguments);
  g_test_add_func ("/download/no-curl", test_no_curl);
  g_test_add_func ("/download/decoys", test_decoys);
  g_test_add_func ("/download/cancel", test_cancel);
  g_test_add_func ("/download/disk-full", test_disk_full);

  status = g_test_run ();
  if (!g_test_subprocess ())
    ns_test_rm_rf (tmp_root);
  g_free (tmp_root);
  return status;
}
