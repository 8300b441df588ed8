/* download.c — fetching the VGG-19 checkpoint with curl, verifying it, and keeping only the
 * convolution layers.
 *
 * curl writes to its standard output, a temporary file created here exclusively beside the
 * destination; the calling thread reads curl's messages and reports the file's growing size
 * meanwhile, so the callback always runs in the caller's thread and no main loop is needed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "ns-internal.h"

#define PROGRESS_INTERVAL_US (200 * G_TIME_SPAN_MILLISECOND)
#define MAX_CURL_MESSAGE     2000

/* VGG-19 ("E"): the feature index and channel counts of each of its 16 convolutions. */
static const struct
{
  int index, cin, cout;
} vgg19_convs[16] = {
  { 0, 3, 64 },     { 2, 64, 64 },
  { 5, 64, 128 },   { 7, 128, 128 },
  { 10, 128, 256 }, { 12, 256, 256 }, { 14, 256, 256 }, { 16, 256, 256 },
  { 19, 256, 512 }, { 21, 512, 512 }, { 23, 512, 512 }, { 25, 512, 512 },
  { 28, 512, 512 }, { 30, 512, 512 }, { 32, 512, 512 }, { 34, 512, 512 },
};

static guint64
fd_size (int fd)
{
  struct stat st;
  return fstat (fd, &st) == 0 ? (guint64) st.st_size : 0;
}

/* curl's exit 23 says only that it could not write its output; find out why by writing
 * there ourselves (the file is deleted afterwards).  Returns an errno, or 0. */
static int
write_errno (int fd)
{
  static const char zeros[1 << 16];
  off_t end = (off_t) fd_size (fd);

  for (int i = 0; i < 16; i++, end += sizeof zeros)
    if (pwrite (fd, zeros, sizeof zeros, end) < 0)
      return errno;
  return 0;
}

static void
set_cancelled (GError **error)
{
  g_set_error (error, NS_ERROR, NS_ERROR_CANCELLED, "The download was cancelled.");
}

/* Reads what curl says on stderr until it exits, reporting progress every
 * PROGRESS_INTERVAL_US; stops curl when `progress` returns FALSE.  Returns curl's wait
 * status and sets *cancelled. */
static int
wait_curl (GPid pid, int err_fd, int out_fd, GString *err_output,
           NsDownloadProgressFunc progress, gpointer user_data, gboolean *cancelled)
{
  GPollFD poll_fd = { err_fd, G_IO_IN | G_IO_HUP | G_IO_ERR, 0 };
  gint64 next = g_get_monotonic_time () + PROGRESS_INTERVAL_US;
  char buf[4096];
  int status;

  for (;;)
    {
      gint64 now = g_get_monotonic_time ();
      gssize n;

      if (now >= next)
        {
          next = now + PROGRESS_INTERVAL_US;
          if (progress != NULL && !*cancelled && !progress (fd_size (out_fd), 0, user_data))
            {
              *cancelled = TRUE;
              kill (pid, SIGTERM);
            }
          continue;
        }
      if (g_poll (&poll_fd, 1, (next - now) / 1000 + 1) <= 0)
        continue;             /* time for progress, or a signal */
      n = read (err_fd, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
        break;                /* curl has exited */
      if (n > 0 && err_output->len < 4 * MAX_CURL_MESSAGE)
        g_string_append_len (err_output, buf, n);
    }
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  g_spawn_close_pid (pid);
  return status;
}

/* Runs curl to fetch url into the open file `fd` (named `part`), reporting the growing
 * size.  curl writes to its standard output, so it never opens a file by name.  On failure
 * the error carries curl's own message, or what prevented writing. */
static gboolean
run_curl (const char *url, int fd, const char *part, NsDownloadProgressFunc progress,
          gpointer user_data, GError **error)
{
  g_autofree char *curl = g_find_program_in_path ("curl");
  char *argv[] = { NULL, "-fsSL", "--retry", "3", "--proto", "=https,http,file",
                   "--", (char *) url, NULL };
  g_autoptr (GString) err_output = g_string_new (NULL);
  g_autoptr (GError) wait_error = NULL;
  GError *spawn_error = NULL;
  gboolean cancelled = FALSE;
  GPid pid;
  int err_fd, status, write_error;

  if (curl == NULL)
    {
      g_set_error (error, NS_ERROR, NS_ERROR_DOWNLOAD,
                   "Cannot download the weights: the “curl” program was not found. Install "
                   "curl (for example “apt install curl”), or download %s yourself and pass "
                   "it with --weights FILE.", url);
      return FALSE;
    }
  argv[0] = curl;
  if (!g_spawn_async_with_pipes_and_fds (NULL, (const char * const *) argv, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
                                         NULL, NULL, -1, fd, -1, NULL, NULL, 0, &pid, NULL,
                                         NULL, &err_fd, &spawn_error))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_DOWNLOAD, "Could not run curl to download %s: %s",
                   url, spawn_error->message);
      g_error_free (spawn_error);
      return FALSE;
    }
  status = wait_curl (pid, err_fd, fd, err_output, progress, user_data, &cancelled);
  close (err_fd);

  if (cancelled)
    {
      set_cancelled (error);
      return FALSE;
    }
  if (g_spawn_check_wait_status (status, &wait_error))
    return TRUE;

  if (WIFEXITED (status) && WEXITSTATUS (status) == 23 && (write_error = write_errno (fd)) != 0)
    {
      g_autofree char *dir = g_path_get_dirname (part);
      g_autofree char *display = g_filename_display_name (dir);

      g_set_error (error, NS_ERROR, NS_ERROR_IO,
                   "Downloading %s failed: %s while writing into the folder “%s”. Free some "
                   "space there, or choose another place with --weights FILE.",
                   url, g_strerror (write_error), display);
      return FALSE;
    }
  {
    char *msg = g_strstrip (err_output->str);

    if (strlen (msg) > MAX_CURL_MESSAGE)
      msg[MAX_CURL_MESSAGE] = '\0';
    g_set_error (error, NS_ERROR, NS_ERROR_DOWNLOAD,
                 "Downloading %s failed: %s. Check the address and your network connection "
                 "and try again, or download the file yourself and pass it with --weights FILE.",
                 url, *msg ? msg : wait_error->message);
  }
  return FALSE;
}

/* The SHA-256 of a file, read in chunks so that 575 MB need not be in memory at once. */
static char *
sha256_file (const char *path, GError **error)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buf = g_malloc (1 << 20);
  FILE *f = g_fopen (path, "rb");
  gsize n;
  gboolean failed;

  if (f == NULL)
    {
      int saved_errno = errno;
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "Could not read “%s”: %s",
                   display, g_strerror (saved_errno));
      return NULL;
    }
  while ((n = fread (buf, 1, 1 << 20, f)) > 0)
    g_checksum_update (sum, buf, n);
  failed = ferror (f);
  fclose (f);
  if (failed)
    {
      g_autofree char *display = g_filename_display_name (path);
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "Could not read “%s”.", display);
      return NULL;
    }
  return g_strdup (g_checksum_get_string (sum));
}

static gboolean
is_sha256_hex (const char *s)
{
  if (s == NULL || strlen (s) != 64)
    return FALSE;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return TRUE;
}

/* Checks that the checkpoint holds all 16 VGG-19 convolutions with the right shapes and a
 * float dtype, so that a wrong file never reaches `dest`. */
static gboolean
check_vgg19 (const char *path, const char *url, GError **error)
{
  g_autoptr (NsSafetensors) st = ns_safetensors_open (path, error);

  if (st == NULL)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (vgg19_convs); i++)
    {
      const gint64 wshape[4] = { vgg19_convs[i].cout, vgg19_convs[i].cin, 3, 3 };
      const gint64 bshape[1] = { vgg19_convs[i].cout };
      const char *suffix[2] = { "weight", "bias" };
      const gint64 *shapes[2] = { wshape, bshape };
      const int n_dims[2] = { 4, 1 };

      for (int k = 0; k < 2; k++)
        {
          g_autofree char *name = g_strdup_printf ("features.%d.%s", vgg19_convs[i].index,
                                                   suffix[k]);
          const NsSafetensorsTensor *t = ns_safetensors_find (st, name);
          gboolean good = t != NULL && t->n_dims == n_dims[k] && t->dtype != NS_DTYPE_OTHER;

          for (int d = 0; good && d < n_dims[k]; d++)
            good = t->shape[d] == shapes[k][d];
          if (!good)
            {
              g_set_error (error, NS_ERROR, NS_ERROR_DOWNLOAD,
                           "The file downloaded from %s is not VGG-19: tensor “%s” is %s. "
                           "Use the default address of “neural-style --download-weights”.",
                           url, name, t == NULL ? "missing"
                           : t->dtype == NS_DTYPE_OTHER ? "not floating point" : "of the wrong shape");
              return FALSE;
            }
        }
    }
  return TRUE;
}

static gboolean
make_parent_dir (const char *dest, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (dest);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int saved_errno = errno;
      g_autofree char *display = g_filename_display_name (dir);
      g_set_error (error, NS_ERROR, NS_ERROR_IO, "Could not create the folder “%s”: %s",
                   display, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

gboolean
ns_weights_download (const char             *url,
                     const char             *sha256_hex,
                     const char             *dest,
                     NsDownloadProgressFunc  progress,
                     gpointer                user_data,
                     GError                **error)
{
  g_autofree char *part = NULL;
  g_autofree char *got = NULL;
  guint64 size;
  gboolean ok;
  int fd;

  g_return_val_if_fail (url != NULL && dest != NULL, FALSE);

  if (!is_sha256_hex (sha256_hex))
    {
      g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a SHA-256 checksum (64 hexadecimal digits).",
                   sha256_hex ? sha256_hex : "(null)");
      return FALSE;
    }
  if (!make_parent_dir (dest, error))
    return FALSE;

  fd = ns_file_create_temp (dest, ".part", &part);
  if (fd < 0)
    {
      int saved_errno = errno;
      g_autofree char *dir = g_path_get_dirname (dest);
      g_autofree char *display = g_filename_display_name (dir);

      g_set_error (error, NS_ERROR, NS_ERROR_IO, "Could not write into the folder “%s”: %s",
                   display, g_strerror (saved_errno));
      return FALSE;
    }
  ok = run_curl (url, fd, part, progress, user_data, error);
  size = fd_size (fd);
  close (fd);
  /* The last chance to cancel: checking and trimming take a few seconds more. */
  if (ok && progress != NULL && !progress (size, size, user_data))
    {
      set_cancelled (error);
      ok = FALSE;
    }
  if (!ok)
    {
      g_unlink (part);
      return FALSE;
    }

  got = sha256_file (part, error);
  if (got == NULL)
    {
      g_unlink (part);
      return FALSE;
    }
  if (g_ascii_strcasecmp (got, sha256_hex) != 0)
    {
      g_unlink (part);
      g_set_error (error, NS_ERROR, NS_ERROR_DOWNLOAD,
                   "The file downloaded from %s is damaged or has changed: its SHA-256 is %s, "
                   "expected %s. It was deleted; try again later.",
                   url, got, sha256_hex);
      return FALSE;
    }

  ok = check_vgg19 (part, url, error) && ns_weights_trim (part, dest, error);
  g_unlink (part);
  return ok;
}
