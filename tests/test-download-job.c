/* test-download-job.c — the dialog's weights download (plugin/download.c, GIMP-free) on
 * file:// and unreachable URLs: progress and the end come through the main context, the
 * engine's real errors are said in words (damaged file, no network, no curl, cancelled,
 * full disk), and nothing is reported after ns_download_free. */
#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

#include "download.h"

static char *tmp_root;

typedef struct
{
  int      updates;
  guint64  last_done;
  gboolean finished;
  GError  *error;
  char    *detail;
  GThread *thread;      /* where the end was reported */
} Seen;

static void
on_update (NsDownload *download,
           guint64     done,
           guint64     total,
           gpointer    data)
{
  Seen *s = data;

  s->updates++;
  s->last_done = done;
}

static void
on_done (NsDownload   *download,
         const GError *error,
         const char   *detail,
         gpointer      data)
{
  Seen *s = data;

  s->finished = TRUE;
  s->thread = g_thread_self ();
  s->error = error ? g_error_copy (error) : NULL;
  s->detail = g_strdup (detail);
}

static void
seen_clear (Seen *s)
{
  g_clear_error (&s->error);
  g_free (s->detail);
}

static char *
dest_in (const char *name)
{
  return g_build_filename (tmp_root, name, "vgg19.safetensors", NULL);
}

/* A small file that is not the weights, as a file:// URL. */
static char *
small_source (void)
{
  g_autofree char *path = g_build_filename (tmp_root, "source.bin", NULL);

  g_assert_true (g_file_set_contents (path, "not a checkpoint, but some bytes", -1, NULL));
  return g_filename_to_uri (path, NULL, NULL);
}

/* Runs a download to its end in the default context, cancelling at once if asked. */
static void
run (const char *url,
     const char *dest,
     gboolean    cancel,
     Seen       *seen)
{
  NsDownload *d = ns_download_start (url, NS_VGG19_SHA256, dest, NULL, on_update, on_done, seen);
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;

  if (cancel)
    ns_download_cancel (d);
  while (! seen->finished && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  ns_download_free (d);
  g_assert_true (seen->finished);
}

static void
test_damaged (void)
{
  g_autofree char *url = small_source ();
  g_autofree char *dest = dest_in ("damaged");
  Seen seen = { 0 };

  run (url, dest, FALSE, &seen);
  g_assert_error (seen.error, NS_ERROR, NS_ERROR_DOWNLOAD);
  g_test_message ("%s | %s", seen.error->message, seen.detail);
  g_assert_nonnull (strstr (seen.error->message, "checksum does not match"));
  g_assert_nonnull (strstr (seen.detail, "SHA-256"));
  /* The last update says the whole file is in (it is then checked). */
  g_assert_cmpint (seen.updates, >=, 1);
  g_assert_cmpuint (seen.last_done, ==, strlen ("not a checkpoint, but some bytes"));
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  seen_clear (&seen);
}

static void
test_no_network (void)
{
  g_autofree char *dest = dest_in ("offline");
  Seen seen = { 0 };

  /* Nothing listens on port 9 of the loopback: the connection is refused at once. */
  run ("http://127.0.0.1:9/model.safetensors", dest, FALSE, &seen);
  g_assert_error (seen.error, NS_ERROR, NS_ERROR_DOWNLOAD);
  g_test_message ("%s | %s", seen.error->message, seen.detail);
  g_assert_nonnull (strstr (seen.error->message, "check the network connection"));
  g_assert_null (strstr (seen.error->message, "--weights"));
  seen_clear (&seen);
}

static void
test_cancel (void)
{
  g_autofree char *url = small_source ();
  g_autofree char *dest = dest_in ("cancelled");
  Seen seen = { 0 };

  run (url, dest, TRUE, &seen);
  g_assert_error (seen.error, NS_ERROR, NS_ERROR_CANCELLED);
  g_assert_cmpstr (seen.error->message, ==, "The download was cancelled.");
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  seen_clear (&seen);
}

/* The end is reported only by iterating the context, in the thread that does: not by the
 * worker while nobody iterates (the default context is free then, and
 * g_main_context_invoke would run the callback in the worker: GTK from the wrong thread,
 * and a loop that waits for the end in g_main_context_iteration never woken). */
static void
test_main_context (void)
{
  g_autofree char *url = small_source ();
  g_autofree char *dest = dest_in ("main-context");
  Seen seen = { 0 };
  NsDownload *d = ns_download_start (url, NS_VGG19_SHA256, dest, NULL, on_update, on_done, &seen);
  gint64 deadline = g_get_monotonic_time () + 60 * G_TIME_SPAN_SECOND;

  ns_download_cancel (d);
  /* A cancelled download of a small file ends in milliseconds: the worker is done by now. */
  g_usleep (2 * G_USEC_PER_SEC);
  g_assert_false (seen.finished);
  while (! seen.finished && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  ns_download_free (d);
  g_assert_true (seen.finished);
  g_assert_true (seen.thread == g_thread_self ());
  g_assert_error (seen.error, NS_ERROR, NS_ERROR_CANCELLED);
  seen_clear (&seen);
}

static void
test_no_curl (void)
{
  g_autofree char *url = small_source ();
  g_autofree char *dest = dest_in ("no-curl");
  g_autofree char *path = g_strdup (g_getenv ("PATH"));
  Seen seen = { 0 };

  g_setenv ("PATH", "/nonexistent", TRUE);
  run (url, dest, FALSE, &seen);
  g_setenv ("PATH", path, TRUE);
  g_assert_error (seen.error, NS_ERROR, NS_ERROR_DOWNLOAD);
  g_assert_nonnull (strstr (seen.error->message, "install it"));
  g_assert_nonnull (strstr (seen.error->message, "curl"));
  seen_clear (&seen);
}

/* The engine's wording for a full disk (tests/test-download.c makes a real one). */
static void
test_disk_full (void)
{
  g_autofree char *dest = dest_in ("full");
  g_autofree char *folder = g_path_get_dirname (dest);
  g_autoptr (GError) error = g_error_new (NS_ERROR, NS_ERROR_IO,
                                          "Downloading %s failed: %s while writing into the "
                                          "folder “%s”.", NS_VGG19_URL, g_strerror (ENOSPC),
                                          folder);
  g_autofree char *words = ns_download_explain (error, dest);

  g_assert_nonnull (strstr (words, "disk is full"));
  g_assert_nonnull (strstr (words, folder));
  g_assert_null (strstr (words, "network"));
}

static void
never (NsDownload   *download,
       const GError *error,
       const char   *detail,
       gpointer      data)
{
  g_assert_not_reached ();
}

static void
test_free_stops_callbacks (void)
{
  g_autofree char *url = small_source ();
  g_autofree char *dest = dest_in ("freed");
  NsDownload *d = ns_download_start (url, NS_VGG19_SHA256, dest, NULL, NULL, never, NULL);

  ns_download_free (d);
  /* The worker has ended; what it posted must not reach `never`. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tmp_root = g_dir_make_tmp ("ns-download-job-XXXXXX", NULL);
  g_unsetenv ("NS_PLUGIN_WEIGHTS_URL");

  g_test_add_func ("/download-job/damaged", test_damaged);
  g_test_add_func ("/download-job/no-network", test_no_network);
  g_test_add_func ("/download-job/cancel", test_cancel);
  g_test_add_func ("/download-job/main-context", test_main_context);
  g_test_add_func ("/download-job/no-curl", test_no_curl);
  g_test_add_func ("/download-job/disk-full", test_disk_full);
  g_test_add_func ("/download-job/free-stops-callbacks", test_free_stops_callbacks);
  status = g_test_run ();

  {
    g_autofree char *command = g_strdup_printf ("rm -rf '%s'", tmp_root);
    g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL);
  }
  g_free (tmp_root);
  return status;
}
