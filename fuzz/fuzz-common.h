/* fuzz-common.h — helpers shared by the libFuzzer targets (header-only).
 *
 * The engine and the CLI read files by path, so each input is written to a private temporary
 * directory first.  A broken invariant calls fuzz_fail, which aborts: libFuzzer then reports
 * it like any crash and saves the input. */
#ifndef NS_FUZZ_COMMON_H
#define NS_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "neural-style.h"

static char *fuzz_dir;

/* Each target's seed maker (seeds-*.c): writes the seed corpus into `dir`. */
void fuzz_make_seeds (const char *dir);

static void G_GNUC_NORETURN G_GNUC_PRINTF (1, 2)
fuzz_fail (const char *format, ...)
{
  va_list args;

  fputs ("fuzz: invariant broken: ", stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  abort ();
}

static void
fuzz_remove_dir (void)
{
  GDir *dir;
  const char *name;

  if (fuzz_dir == NULL || (dir = g_dir_open (fuzz_dir, 0, NULL)) == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fuzz_dir, name, NULL);
      g_unlink (path);
    }
  g_dir_close (dir);
  g_rmdir (fuzz_dir);
}

/* Once per process: a private directory for the files each input becomes, and GLib's
 * criticals and warnings made fatal (a g_return_if_fail that fires is a bug too).
 * With NS_FUZZ_MAKE_SEEDS=DIR the target writes its seed corpus into DIR and exits. */
static void
fuzz_init (void)
{
  GError *error = NULL;
  const char *seeds = g_getenv ("NS_FUZZ_MAKE_SEEDS");

  if (seeds != NULL && *seeds != '\0')
    {
      if (g_mkdir_with_parents (seeds, 0755) != 0)
        {
          fprintf (stderr, "fuzz: cannot create %s\n", seeds);
          exit (1);
        }
      fuzz_make_seeds (seeds);
      exit (0);
    }
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  fuzz_dir = g_dir_make_tmp ("ns-fuzz-XXXXXX", &error);
  if (fuzz_dir == NULL)
    {
      fprintf (stderr, "fuzz: %s\n", error->message);
      exit (1);
    }
  atexit (fuzz_remove_dir);
}

static char *
fuzz_path (const char *name)
{
  return g_build_filename (fuzz_dir, name, NULL);
}

/* Without fsync: the file lives for one input only. */
static void
fuzz_write_file (const char *path, const uint8_t *data, size_t size)
{
  GError *error = NULL;

  if (!g_file_set_contents_full (path, (const char *) data, (gssize) size,
                                 G_FILE_SET_CONTENTS_NONE, 0600, &error))
    {
      fprintf (stderr, "fuzz: %s\n", error->message);
      exit (1);
    }
}

/* Files in the private folder: a failed write must leave no temporary file behind. */
static guint
fuzz_count_files (void)
{
  GDir *dir = g_dir_open (fuzz_dir, 0, NULL);
  guint n = 0;

  while (g_dir_read_name (dir) != NULL)
    n++;
  g_dir_close (dir);
  return n;
}

/* Every failure must come as an NS_ERROR whose message can be shown as it is. */
static void
fuzz_check_error (const GError *error, const char *what)
{
  if (error == NULL)
    fuzz_fail ("%s failed without an error", what);
  if (error->domain != NS_ERROR)
    fuzz_fail ("%s failed with an error outside NS_ERROR: %s", what, error->message);
  if (error->message == NULL || *error->message == '\0'
      || !g_utf8_validate (error->message, -1, NULL))
    fuzz_fail ("%s failed with an empty or non-UTF-8 message", what);
}

/* NS_FUZZ_VERBOSE=1 says what became of each input (tap-test.sh checks the seeds with it). */
static void
fuzz_report (const char *verdict, const char *detail)
{
  static int verbose = -1;

  if (verbose < 0)
    verbose = g_strcmp0 (g_getenv ("NS_FUZZ_VERBOSE"), "1") == 0;
  if (verbose)
    fprintf (stderr, "fuzz-result: %s%s%s\n", verdict, detail ? ": " : "", detail ? detail : "");
}

#endif /* NS_FUZZ_COMMON_H */
