/* file.c — files the engine and its front ends write: a result appears whole or not at all,
 * and nothing already on the disk under a guessable name is opened. */

#include <errno.h>
#include <fcntl.h>

#include <glib/gstdio.h>

#include "neural-style.h"

#ifndef O_NOFOLLOW
#define O_NOFOLLOW 0
#endif
#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

int
ns_file_create_temp (const char *path, const char *suffix, char **tmp_path)
{
  char *tmpl = g_strconcat (path, ".XXXXXX", suffix, NULL);
  /* O_EXCL (added by g_mkstemp_full) and O_NOFOLLOW: never open what is already there, so a
   * file or link planted under a predictable name is left alone.  0666: the umask decides,
   * as for any new file, since the temporary becomes the result. */
  int fd = g_mkstemp_full (tmpl, O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0666);
  int saved_errno = errno;

  if (fd < 0)
    {
      g_free (tmpl);
      errno = saved_errno;
      return -1;
    }
  *tmp_path = tmpl;
  return fd;
}
