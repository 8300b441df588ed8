/* regions.c — --style-mask and --rest: a style per region of the content
 * (ns_stylizer_set_regions).  The masks are read and checked against the content as read,
 * before the network is loaded: a mask of the content's shape may have any size, and the
 * engine makes it the size the content is stylized at. */
#include <string.h>

#include "cli.h"
#include "regions.h"

gboolean
cli_regions_parse (const CliArgs *a, int n_styles, CliRun *run, GError **error)
{
  g_auto (GStrv) paths = NULL;
  gboolean any = FALSE;

  run->rest = NS_REGION_REST_CONTENT;
  if (a->rest != NULL)
    {
      if (strcmp (a->rest, "styles") == 0)
        run->rest = NS_REGION_REST_STYLES;
      else if (strcmp (a->rest, "content") != 0)
        return fail (error, "--rest must be “content” or “styles”, not “%s”", a->rest);
      if (a->style_mask == NULL)
        return fail (error, "--rest only applies with --style-mask");
    }
  if (a->style_mask == NULL)
    return TRUE;
  if (a->frames)
    return fail (error, "--style-mask does not apply to --frames");
  paths = g_strsplit (a->style_mask, ",", -1);
  if ((int) g_strv_length (paths) != n_styles)
    return fail (error, "--style-mask has %u mask%s but there %s %d style image%s; give one "
                 "mask per style, in the styles' order (an empty entry, as in “sky.png,”, "
                 "means everywhere)", g_strv_length (paths),
                 g_strv_length (paths) == 1 ? "" : "s", n_styles == 1 ? "is" : "are",
                 n_styles, n_styles == 1 ? "" : "s");
  for (int i = 0; i < n_styles; i++)
    any |= paths[i][0] != '\0';
  if (!any)
    return fail (error, "--style-mask names no file; give a grey image per style (white "
                 "where it applies)");
  run->mask_paths = g_steal_pointer (&paths);
  return TRUE;
}

/* A grey copy of `image` (RGB: its luminance). */
static NsImage *
to_grey (const NsImage *image)
{
  gsize n = (gsize) image->width * image->height;
  NsImage *grey;

  if (image->channels == 1)
    return ns_image_copy (image);
  grey = ns_image_new (image->width, image->height, 1);
  for (gsize i = 0; i < n; i++)
    {
      const float *p = image->data + 3 * i;

      grey->data[i] = CLAMP (0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2], 0.0f, 1.0f);
    }
  return grey;
}

gboolean
cli_regions_load (CliRun *run, const NsImage *content, guint64 budget)
{
  int n;

  if (run->mask_paths == NULL)
    return TRUE;
  n = (int) g_strv_length (run->mask_paths);
  run->masks = g_new0 (NsImage *, n);
  for (int i = 0; i < n; i++)
    {
      const char *path = run->mask_paths[i];
      CliImage image = { 0 };
      gboolean empty = TRUE;

      if (path[0] == '\0')
        continue;
      if (!load_image ("mask", path, budget, &image))
        return FALSE;
      run->masks[i] = to_grey (image.color);
      cli_image_clear (&image);
      if (!ns_region_mask_fits (run->masks[i]->width, run->masks[i]->height, content->width,
                                content->height))
        {
          say ("the mask “%s” is %d×%d pixels but the content is %d×%d; give a mask of the "
               "content's shape, at its size or any other (white where style %d applies)",
               path, run->masks[i]->width, run->masks[i]->height, content->width,
               content->height, i + 1);
          return FALSE;
        }
      for (gsize p = 0; empty && p < (gsize) run->masks[i]->width * run->masks[i]->height; p++)
        empty = run->masks[i]->data[p] <= 0.0f;
      if (empty)
        {
          say ("the mask “%s” is all black, so style %d would apply nowhere; paint where it "
               "applies in white, or leave its entry in --style-mask empty for everywhere",
               path, i + 1);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
cli_regions_apply (const CliRun *run, NsStylizer *stylizer, int n_styles, GError **error)
{
  if (run->masks == NULL)
    return TRUE;
  return ns_stylizer_set_regions (stylizer, (const NsImage * const *) run->masks, NULL,
                                  n_styles, run->rest, error);
}

void
cli_regions_clear (CliRun *run)
{
  for (int i = 0; run->masks && run->mask_paths && run->mask_paths[i]; i++)
    ns_image_free (run->masks[i]);
  g_clear_pointer (&run->masks, g_free);
  g_clear_pointer (&run->mask_paths, g_strfreev);
}
