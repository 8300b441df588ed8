/* frame-list.c — the frames of `neural-style --frames` and their outputs: listed as given,
 * from a folder or from a pattern, numbered, named, and checked before any work (an output
 * that is an input, frames of other sizes, outputs that --resume cannot keep).
 */
#include "frame-list.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interrupt.h"

void
frame_free (gpointer data)
{
  Frame *f = data;

  g_free (f->input);
  g_free (f->output);
  g_free (f);
}

static void
add_frame (GPtrArray *frames, char *input, gint64 number)
{
  Frame *f = g_new0 (Frame, 1);

  f->input = input;
  f->number = number;
  g_ptr_array_add (frames, f);
}

/* What was typed wrongly is a usage error (exit 2), what is wrong with the files a runtime
 * failure (exit 1), as for a single image. */
static gboolean G_GNUC_PRINTF (3, 4)
frames_error (GError **error, gboolean usage, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error, g_error_new_valist (usage ? G_OPTION_ERROR : NS_ERROR,
                                                usage ? G_OPTION_ERROR_BAD_VALUE : NS_ERROR_IO,
                                                format, args));
  va_end (args);
  return FALSE;
}

int
report_frames_error (const GError *error)
{
  if (error->domain == G_OPTION_ERROR)
    return usage_error (error->message);
  say ("%s", error->message);
  return EXIT_RUNTIME;
}

/* ---- patterns --------------------------------------------------------------------------- */

/* "out/%04d.png": one %d or %0Nd in the file name; %% is a percent sign. */
typedef struct
{
  char *folder;     /* up to and including the last '/', as typed; "" when none */
  char *prefix;     /* the file name before the number */
  char *suffix;     /* and after it */
  int   width;      /* %0Nd: N; %d: 0 */
} Pattern;

static void
pattern_clear (Pattern *p)
{
  g_clear_pointer (&p->folder, g_free);
  g_clear_pointer (&p->prefix, g_free);
  g_clear_pointer (&p->suffix, g_free);
}

/* `what` names the pattern in messages ("the frame pattern"). */
static gboolean
pattern_parse (const char *text, const char *what, Pattern *p, GError **error)
{
  const char *slash = strrchr (text, '/');
  const char *name = slash ? slash + 1 : text;
  g_autoptr (GString) part = g_string_new (NULL);
  int conversions = 0;

  memset (p, 0, sizeof *p);
  if (memchr (text, '%', name - text) != NULL)
    return fail (error, "%s “%s” has a %% in its folder; the frame number (%%d or %%0Nd) must "
                 "be in the file name", what, text);
  for (const char *c = name; *c != '\0'; c++)
    {
      const char *spec = c + 1;
      const char *end = spec;
      int width = 0;

      if (*c != '%')
        {
          g_string_append_c (part, *c);
          continue;
        }
      if (*spec == '%')
        {
          g_string_append_c (part, '%');
          c++;
          continue;
        }
      if (*spec == '0' && g_ascii_isdigit (spec[1]))
        {
          width = (int) strtol (spec + 1, (char **) &end, 10);
          if (end - spec > 3)
            width = -1;               /* longer than %099d */
        }
      if (*end != 'd' || width < 0 || (end > spec && width == 0))
        {
          /* Quote the whole conversion: its flags, width and letter. */
          end = spec;
          while (*end != '\0' && strchr ("0123456789-+ #.'lhjztLq", *end) != NULL)
            end++;
          if (*end != '\0')
            end++;
          return fail (error, "“%.*s” in %s “%s” is not a frame number: use %%d, or %%0Nd for N "
                       "digits (e.g. %%04d), and %%%% for a %% sign", (int) (end - c), c, what,
                       text);
        }
      if (++conversions == 1)
        {
          p->prefix = g_strdup (part->str);
          p->width = width;
          g_string_truncate (part, 0);
        }
      c = end;
    }
  if (conversions != 1)
    {
      g_clear_pointer (&p->prefix, g_free);
      if (conversions == 0)
        return fail (error, "%s “%s” has no %%d or %%0Nd for the frame number, e.g. "
                     "frames/%%04d.png", what, text);
      return fail (error, "%s “%s” has %d frame numbers; it needs exactly one %%d or %%0Nd",
                   what, text, conversions);
    }
  p->suffix = g_strdup (part->str);
  p->folder = g_strndup (text, name - text);
  return TRUE;
}

static char *
pattern_name (const Pattern *p, gint64 number)
{
  return g_strdup_printf ("%s%0*" G_GINT64_FORMAT "%s", p->prefix, p->width, number, p->suffix);
}

static char *
pattern_path (const Pattern *p, gint64 number)
{
  g_autofree char *name = pattern_name (p, number);

  return g_strconcat (p->folder, name, NULL);
}

/* The number of the file `name` when it is exactly what the pattern makes of it. */
static gboolean
pattern_number (const Pattern *p, const char *name, gint64 *number)
{
  gsize n = strlen (name), np = strlen (p->prefix), ns = strlen (p->suffix);
  g_autofree char *digits = NULL;
  g_autofree char *canonical = NULL;

  if (n <= np + ns || strncmp (name, p->prefix, np) != 0 || strcmp (name + n - ns, p->suffix) != 0)
    return FALSE;
  digits = g_strndup (name + np, n - np - ns);
  for (const char *c = digits; *c; c++)
    if (!g_ascii_isdigit (*c))
      return FALSE;
  if (!g_ascii_string_to_signed (digits, 10, 0, G_MAXINT, number, NULL))
    return FALSE;
  canonical = pattern_name (p, *number);
  return strcmp (canonical, name) == 0;
}

static int
compare_gint64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* The files of the pattern, numbered consecutively from 0 or 1. */
static gboolean
list_pattern (const char *text, GPtrArray *frames, GError **error)
{
  Pattern p;
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GArray) numbers = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GError) dir_error = NULL;
  const char *folder;
  const char *name;
  gint64 first;
  gboolean ok = FALSE;

  if (!pattern_parse (text, "the frame pattern", &p, error))
    return FALSE;
  folder = *p.folder != '\0' ? p.folder : ".";
  dir = g_dir_open (folder, 0, &dir_error);
  if (dir == NULL)
    {
      frames_error (error, FALSE, "cannot read the folder of the frame pattern “%s”: %s", text,
                    dir_error->message);
      goto out;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      gint64 n;

      if (pattern_number (&p, name, &n))
        g_array_append_val (numbers, n);
    }
  g_array_sort (numbers, compare_gint64);
  if (numbers->len == 0)
    {
      g_autofree char *zero = pattern_path (&p, 0);
      g_autofree char *one = pattern_path (&p, 1);

      frames_error (error, FALSE, "no frames match “%s”: there is neither “%s” nor “%s”", text,
                    zero, one);
      goto out;
    }
  first = g_array_index (numbers, gint64, 0);
  if (first > 1)
    {
      g_autofree char *path = pattern_path (&p, first);

      frames_error (error, FALSE, "the frames of “%s” must be numbered from 0 or 1, but the "
                    "first one is “%s”", text, path);
      goto out;
    }
  for (guint i = 0; i < numbers->len; i++)
    {
      gint64 n = g_array_index (numbers, gint64, i);

      if (n != first + i)
        {
          /* Names are canonical, so the numbers are distinct: this one skips some. */
          g_autofree char *missing = pattern_path (&p, first + i);
          g_autofree char *next = pattern_path (&p, n);

          frames_error (error, FALSE, "frame %" G_GINT64_FORMAT " of “%s” is missing: there is "
                        "no “%s”, but there is “%s”", first + i, text, missing, next);
          goto out;
        }
      add_frame (frames, pattern_path (&p, n), n);
    }
  ok = TRUE;
out:
  pattern_clear (&p);
  return ok;
}

/* ---- folders and lists --------------------------------------------------------------------- */

static gboolean
is_image_name (const char *name)
{
  const char *dot = strrchr (name, '.');

  return name[0] != '.' && dot != NULL
         && (g_ascii_strcasecmp (dot, ".png") == 0 || g_ascii_strcasecmp (dot, ".jpg") == 0
             || g_ascii_strcasecmp (dot, ".jpeg") == 0);
}

typedef struct
{
  char *key;
  char *name;
} SortEntry;

static int
compare_entries (gconstpointer a, gconstpointer b)
{
  const SortEntry *x = a, *y = b;
  int c = strcmp (x->key, y->key);

  return c != 0 ? c : strcmp (x->name, y->name);
}

/* The folder's PNG and JPEG images, sorted by name as a file manager sorts them (frame2
 * before frame10). */
static gboolean
list_folder (const char *folder, GPtrArray *frames, GError **error)
{
  g_autoptr (GError) dir_error = NULL;
  g_autoptr (GDir) dir = g_dir_open (folder, 0, &dir_error);
  g_autoptr (GArray) entries = g_array_new (FALSE, FALSE, sizeof (SortEntry));
  const char *name;

  if (dir == NULL)
    return frames_error (error, FALSE, "cannot read the folder of frames “%s”: %s", folder,
                         dir_error->message);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      SortEntry e;

      if (!is_image_name (name))
        continue;
      path = g_build_filename (folder, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      e.name = g_strdup (name);
      e.key = g_utf8_validate (name, -1, NULL) ? g_utf8_collate_key_for_filename (name, -1)
                                                : g_strdup (name);
      g_array_append_val (entries, e);
    }
  if (entries->len == 0)
    return frames_error (error, FALSE, "the folder “%s” has no frames: no PNG or JPEG images "
                         "(*.png, *.jpg, *.jpeg) in it", folder);
  g_array_sort (entries, compare_entries);
  for (guint i = 0; i < entries->len; i++)
    {
      SortEntry *e = &g_array_index (entries, SortEntry, i);

      add_frame (frames, g_build_filename (folder, e->name, NULL), i + 1);
      g_free (e->key);
      g_free (e->name);
    }
  return TRUE;
}

/* "clip/frame0012.png" → "clip/frame", 12, ".png": the last run of digits in the file
 * name, with the folder in the prefix (two clips one after the other are two series). */
static gboolean
split_number (const char *path, char **prefix, gint64 *number, char **suffix)
{
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *folder = g_path_get_dirname (path);
  gsize end = strlen (name), start;
  g_autofree char *digits = NULL;

  while (end > 0 && !g_ascii_isdigit (name[end - 1]))
    end--;
  start = end;
  while (start > 0 && g_ascii_isdigit (name[start - 1]))
    start--;
  if (start == end)
    return FALSE;
  digits = g_strndup (name + start, end - start);
  if (!g_ascii_string_to_signed (digits, 10, 0, G_MAXINT, number, NULL))
    return FALSE;
  name[start] = '\0';
  *prefix = g_build_filename (folder, name, NULL);
  *suffix = g_strdup (name + end);
  return TRUE;
}

/* When all names are numbered alike ("a0001.png", "a0002.png"…), the frames take those
 * numbers, which must then go up (`typed`: the order given; a folder is sorted already):
 * a frame twice or out of order is a mistake that would show only in the animation.  A
 * skipped number is warned about: frames may have been dropped on purpose. */
static gboolean
number_by_names (GPtrArray *frames, gboolean typed, GError **error)
{
  g_autofree char *prefix0 = NULL;
  g_autofree char *suffix0 = NULL;
  g_autoptr (GArray) numbers = g_array_new (FALSE, FALSE, sizeof (gint64));
  int gaps = 0;
  guint first_gap = 0;

  for (guint i = 0; i < frames->len; i++)
    {
      g_autofree char *prefix = NULL;
      g_autofree char *suffix = NULL;
      gint64 n;

      if (!split_number (FRAME (frames, i)->input, &prefix, &n, &suffix))
        return TRUE;
      if (i == 0)
        {
          prefix0 = g_steal_pointer (&prefix);
          suffix0 = g_steal_pointer (&suffix);
        }
      else if (strcmp (prefix, prefix0) != 0 || strcmp (suffix, suffix0) != 0)
        return TRUE;                /* not one series: the frames keep their positions */
      g_array_append_val (numbers, n);
    }
  for (guint i = 1; i < frames->len; i++)
    {
      gint64 before = g_array_index (numbers, gint64, i - 1);
      gint64 n = g_array_index (numbers, gint64, i);
      const char *a = FRAME (frames, i - 1)->input, *b = FRAME (frames, i)->input;

      if (n == before)
        return frames_error (error, typed, "“%s” and “%s” are both frame %" G_GINT64_FORMAT
                             "; give each frame once", a, b, n);
      if (n < before)
        return frames_error (error, typed, "the frames are out of order: “%s” (frame %"
                             G_GINT64_FORMAT ") comes after “%s” (frame %" G_GINT64_FORMAT
                             "); give them in the order of their numbers, or give their "
                             "folder (sorted by number)", b, n, a, before);
      if (n > before + 1 && gaps++ == 0)
        first_gap = i;
    }
  if (gaps > 0)
    {
      g_autofree char *more = gaps > 1 ? g_strdup_printf (", and %d more gap%s", gaps - 1,
                                                          gaps > 2 ? "s" : "")
                                       : g_strdup ("");

      say ("warning: no frame %" G_GINT64_FORMAT " between “%s” and “%s”%s; the frames are "
           "stylized as consecutive", g_array_index (numbers, gint64, first_gap - 1) + 1,
           FRAME (frames, first_gap - 1)->input, FRAME (frames, first_gap)->input, more);
    }
  for (guint i = 0; i < frames->len; i++)
    FRAME (frames, i)->number = g_array_index (numbers, gint64, i);
  return TRUE;
}

/* FRAME…: a list of files, one folder or one pattern.  `typed` is set when the order is
 * the command line's. */
gboolean
list_frames (char **operands, int n, GPtrArray *frames, gboolean *typed, GError **error)
{
  *typed = FALSE;
  if (n == 1 && g_file_test (operands[0], G_FILE_TEST_IS_DIR))
    return list_folder (operands[0], frames, error) && number_by_names (frames, FALSE, error);
  if (n == 1 && strchr (operands[0], '%') != NULL
      && !g_file_test (operands[0], G_FILE_TEST_EXISTS))
    return list_pattern (operands[0], frames, error);
  *typed = TRUE;
  for (int i = 0; i < n; i++)
    {
      if (n > 1 && g_file_test (operands[i], G_FILE_TEST_IS_DIR))
        return fail (error, "“%s” is a folder; a folder of frames is given on its own, "
                     "without other frames", operands[i]);
      if (n > 1 && strchr (operands[i], '%') != NULL
          && !g_file_test (operands[i], G_FILE_TEST_EXISTS))
        return fail (error, "“%s” looks like a pattern; a frame pattern is given on its own, "
                     "without other frames", operands[i]);
      add_frame (frames, g_strdup (operands[i]), i + 1);
    }
  return number_by_names (frames, TRUE, error);
}

/* ---- outputs ------------------------------------------------------------------------------- */

/* -o: a folder (the frames keep their names, as .png) or a pattern (their numbers). */
gboolean
name_outputs (const char *output, GPtrArray *frames, GError **error)
{
  g_autoptr (GHashTable) taken = NULL;
  Pattern p;
  gsize n;

  if (output == NULL)
    return fail (error, "no output given; add -o OUT/%%04d.png (a pattern) or -o OUT/ (a "
                 "folder)");
  if (g_str_has_suffix (output, "/") || g_file_test (output, G_FILE_TEST_IS_DIR))
    {
      taken = g_hash_table_new (g_str_hash, g_str_equal);
      for (guint i = 0; i < frames->len; i++)
        {
          Frame *f = FRAME (frames, i);
          g_autofree char *name = g_path_get_basename (f->input);
          char *dot = strrchr (name, '.');
          g_autofree char *png = NULL;
          Frame *other;

          if (dot != NULL && dot != name)
            *dot = '\0';
          png = g_strconcat (name, ".png", NULL);
          f->output = g_build_filename (output, png, NULL);
          other = g_hash_table_lookup (taken, f->output);
          if (other != NULL)
            {
              g_autofree char *folder = g_strdup (output);
              gsize len = strlen (folder);

              while (len > 1 && folder[len - 1] == '/')
                folder[--len] = '\0';
              return fail (error, "the frames “%s” and “%s” would both be written to “%s”; "
                           "give -o a pattern such as %s/%%04d.png instead", other->input,
                           f->input, f->output, folder);
            }
          g_hash_table_insert (taken, f->output, f);
        }
      return TRUE;
    }
  if (strchr (output, '%') == NULL)
    return fail (error, "with --frames, -o is a pattern with one %%d or %%0Nd for the frame "
                 "number, such as out/%%04d.png, or a folder; “%s” is neither", output);
  if (!pattern_parse (output, "the output pattern", &p, error))
    return FALSE;
  n = strlen (p.suffix);
  if (n < 4 || g_ascii_strcasecmp (p.suffix + n - 4, ".png") != 0)
    {
      pattern_clear (&p);
      return fail (error, "the output pattern “%s” must end in .png (only PNG is written)",
                   output);
    }
  for (guint i = 0; i < frames->len; i++)
    FRAME (frames, i)->output = pattern_path (&p, FRAME (frames, i)->number);
  pattern_clear (&p);
  return TRUE;
}

static char *
file_id (const GStatBuf *st)
{
  return g_strdup_printf ("%ju:%ju", (uintmax_t) st->st_dev, (uintmax_t) st->st_ino);
}

/* No output may be an input (however it is named: same device and inode), nor a folder;
 * the output folder must take new files.  With --resume, the outputs already there are
 * kept; without it they are replaced, as a single run replaces its output.  Sets
 * *existing to the outputs already there. */
gboolean
check_files (const CliArgs *a, GPtrArray *frames, gboolean typed, const char *style,
             int *existing, GError **error)
{
  g_autoptr (GHashTable) inputs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GError) write_error = NULL;
  GStatBuf st;

  for (guint i = 0; i < frames->len; i++)
    {
      Frame *f = FRAME (frames, i);
      char *id;
      Frame *same;

      if (g_stat (f->input, &st) != 0)
        {
          int saved = errno;
          return frames_error (error, FALSE, "cannot read the frame “%s”: %s", f->input,
                               g_strerror (saved));
        }
      id = file_id (&st);
      /* A folder may hold one picture twice (hard links) on purpose; a list, not. */
      same = g_hash_table_lookup (inputs, id);
      if (typed && same != NULL)
        {
          g_free (id);
          return fail (error, "“%s” and “%s” are the same file; give each frame once",
                       same->input, f->input);
        }
      g_hash_table_insert (inputs, id, f);
    }
  if (g_stat (style, &st) == 0)
    g_hash_table_insert (inputs, file_id (&st), NULL);

  *existing = 0;
  for (guint i = 0; i < frames->len; i++)
    {
      Frame *f = FRAME (frames, i);
      g_autofree char *id = NULL;
      Frame *same;

      if (g_stat (f->output, &st) != 0)
        continue;
      if (S_ISDIR (st.st_mode))
        return fail (error, "the output “%s” is a folder; choose another -o", f->output);
      if (!S_ISREG (st.st_mode))
        return fail (error, "the output “%s” is not a regular file; choose another -o",
                     f->output);
      id = file_id (&st);
      if (g_hash_table_lookup_extended (inputs, id, NULL, (gpointer *) &same))
        {
          if (same == NULL)
            return fail (error, "the output “%s” is the style image “%s”, which the frame "
                         "would replace; choose another -o", f->output, style);
          return fail (error, "the output “%s” is the input frame “%s”, which the result "
                       "would replace; choose another -o", f->output, same->input);
        }
      (*existing)++;
      f->keep = a->resume;
    }
  /* All outputs are in one folder (the pattern's, or -o itself). */
  if (!cli_image_check_writable (FRAME (frames, 0)->output, &write_error))
    return frames_error (error, FALSE, "cannot write the output “%s”: %s; choose another "
                         "place with -o", FRAME (frames, 0)->output, write_error->message);
  return TRUE;
}

/* Decodes every frame once: a damaged frame, or one of another size, would otherwise stop
 * the run hours in.  Keeps the first, prepared, in *first (its size is the frames' size for
 * the engine, and the plan is made on it), and the frames' own size in *width × *height.
 * Returns -1 to go on, else an exit status. */
int
check_frames (GPtrArray *frames, int size, guint64 budget, CliImage *first, int *width,
              int *height)
{
  for (guint i = 0; i < frames->len; i++)
    {
      Frame *f = FRAME (frames, i);
      CliImage image = { 0 };

      if (interrupt_count > 0)
        return interrupt_status (interrupt_signal);
      if (!load_image ("frame", f->input, budget, &image))
        return EXIT_RUNTIME;
      if (i == 0)
        {
          *width = image.color->width;
          *height = image.color->height;
          prepare_content (&image, size);
          *first = image;
          continue;
        }
      if (image.color->width != *width || image.color->height != *height)
        {
          say ("the frames differ in size: “%s” is %d×%d, but “%s” is %d×%d; all frames must "
               "be the same size", FRAME (frames, 0)->input, *width, *height, f->input,
               image.color->width, image.color->height);
          cli_image_clear (&image);
          return EXIT_RUNTIME;
        }
      cli_image_clear (&image);
    }
  return -1;
}

/* The outputs --resume keeps must be results at the frames' size: one of another --size
 * would hold the next frame to the wrong picture.  Returns -1 to go on. */
int
check_kept (GPtrArray *frames, int width, int height, guint64 budget)
{
  for (guint i = 0; i < frames->len; i++)
    {
      Frame *f = FRAME (frames, i);
      g_autoptr (GError) error = NULL;
      CliImage image = { 0 };
      gboolean same;

      if (!f->keep)
        continue;
      if (interrupt_count > 0)
        return interrupt_status (interrupt_signal);
      if (!cli_image_load (f->output, budget, &image, &error))
        {
          say ("cannot read the output “%s” written before, to resume from it: %s; delete it "
               "to stylize that frame again", f->output, error->message);
          return EXIT_RUNTIME;
        }
      same = image.color->width == width && image.color->height == height;
      if (!same)
        say ("the output “%s” written before is %d×%d, but the frames are stylized at %d×%d "
             "now (another --size?); delete it, or run without --resume to replace all "
             "outputs", f->output, image.color->width, image.color->height, width, height);
      cli_image_clear (&image);
      if (!same)
        return EXIT_RUNTIME;
    }
  return -1;
}
