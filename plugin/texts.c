/* texts.c — what the engine reports, said in the user's language.
 *
 * The engine's own plan line is English and written for the command line; here the same
 * plan (NsPlan) is said piece by piece, each piece a whole phrase for the translators, with
 * ngettext wherever a number decides the form.  Even the separators are translatable:
 * Chinese joins with full-width punctuation. */
#include "texts.h"

#include <math.h>
#include <glib/gi18n.h>

/* A quantity is one word: a wrapping label must not put "1" and "s" on two lines. */
static char *
unbreakable (char *text)
{
  GString *s = g_string_new (text);

  g_free (text);
  g_string_replace (s, " ", "\u00a0", 0);
  return g_string_free (s, FALSE);
}

char *
ns_plugin_format_duration (double seconds)
{
  long s;

  if (! (seconds >= 0) || ! isfinite (seconds))
    return g_strdup ("");

  /* "about 0 s" reads as a bug: anything under a second is "about 1 s". */
  s = MAX (lround (seconds), 1);
  if (s < 60)
    return unbreakable (g_strdup_printf (_("%ld s"), s));
  if (s < 3600)
    return unbreakable (g_strdup_printf (_("%ld min %02ld s"), s / 60, s % 60));
  return unbreakable (g_strdup_printf (_("%ld h %02ld min"), s / 3600, (s % 3600) / 60));
}

char *
ns_plugin_progress_text (const NsProgress *progress)
{
  g_autofree char *left = ns_plugin_format_duration (progress->eta);

  /* The enlargement is one report without an iteration of its own. */
  if (progress->stage == NS_STAGE_ENLARGE)
    return g_strdup_printf (_("Enlarging to %d×%d…"), progress->width, progress->height);
  /* Counted at the current size: the first size runs the iterations the user set. */
  if (progress->stage == NS_STAGE_REFINE && *left)
    return g_strdup_printf (_("Refining at full size… iteration %d of %d, about %s left"),
                            progress->scale_iteration, progress->scale_iterations, left);
  if (progress->stage == NS_STAGE_REFINE)
    return g_strdup_printf (_("Refining at full size… iteration %d of %d"),
                            progress->scale_iteration, progress->scale_iterations);
  if (*left)
    return g_strdup_printf (_("Iteration %d of %d at %d×%d, about %s left"),
                            progress->scale_iteration, progress->scale_iterations,
                            progress->width, progress->height, left);
  return g_strdup_printf (_("Iteration %d of %d at %d×%d"), progress->scale_iteration,
                          progress->scale_iterations, progress->width, progress->height);
}

/* ---- the plan ------------------------------------------------------------------------------ */

/* "2 sizes (128×96, 256×192), 500 + 250 iterations": the iterations per size, as the
 * progress counts them. */
static char *
sizes_text (const NsPlan *plan)
{
  int n = ns_plan_get_n_sizes (plan);
  int total = ns_plan_get_iterations (plan);
  const NsPlanSize *last = ns_plan_get_size (plan, n - 1);
  g_autoptr (GString) list = g_string_new (NULL);
  g_autoptr (GString) counts = g_string_new (NULL);
  g_autofree char *iterations = NULL;

  for (int k = 0; k < n; k++)
    {
      const NsPlanSize *s = ns_plan_get_size (plan, k);

      if (k > 0)
        {
          /* TRANSLATORS: between the sizes of a list, "128×96, 256×192". */
          g_string_append (list, C_("plan", ", "));
          g_string_append (counts, " + ");
        }
      g_string_append_printf (list, "%d×%d", s->width, s->height);
      g_string_append_printf (counts, "%d", s->iterations);
    }

  /* TRANSLATORS: %s is a number or a sum of numbers, "500 + 250". */
  iterations = g_strdup_printf (ngettext ("%s iteration", "%s iterations", total),
                                counts->str);
  if (n == 1)
    /* TRANSLATORS: a size and its iterations, "256×192, 500 iterations". */
    return g_strdup_printf (_("%d×%d, %s"), last->width, last->height, iterations);
  /* TRANSLATORS: the number of sizes, their list and the iterations at each. */
  return g_strdup_printf (ngettext ("%d size (%s), %s", "%d sizes (%s), %s", n),
                          n, list->str, iterations);
}

/* Where the optimiser works at one size: the whole image, or tiles. */
static char *
area_text (const NsPlanSize *size)
{
  if (size->tile == 0)
    return g_strdup (_("the whole image at once"));
  if (size->recompute_content)
    return g_strdup_printf (_("in tiles of %d px, recomputing the content's features"),
                            size->tile);
  return g_strdup_printf (_("in tiles of %d px"), size->tile);
}

/* Which optimiser, and how much it remembers. */
static char *
optimizer_text (const NsPlanSize *size)
{
  if (size->streaming)
    return g_strdup (_("updating the image row by row (no room for an optimizer's "
                       "memory)"));
  if (size->optimizer == NS_OPTIMIZER_ADAM)
    return g_strdup (_("with Adam"));
  return g_strdup_printf (ngettext ("L-BFGS remembering %d step",
                                    "L-BFGS remembering %d steps", size->lbfgs_history),
                          size->lbfgs_history);
}

/* "the whole image at once, L-BFGS remembering 100 steps" */
static char *
arrangement_text (const NsPlanSize *size)
{
  g_autofree char *area = area_text (size);
  g_autofree char *optimizer = optimizer_text (size);

  /* TRANSLATORS: where, then which optimizer: "in tiles of 512 px, with Adam". */
  return g_strdup_printf (C_("plan", "%s, %s"), area, optimizer);
}

/* "at 256×192: in tiles of 512 px, with Adam" */
static char *
size_text (const NsPlanSize *size)
{
  g_autofree char *arrangement = arrangement_text (size);

  return g_strdup_printf (_("at %d×%d: %s"), size->width, size->height, arrangement);
}

/* "then enlarged to 6000×4000, guided by the full-size image"; NULL when not enlarged. */
static char *
enlarge_text (const NsPlan *plan)
{
  NsUpscale upscale;
  int width, height;

  if (! ns_plan_get_enlarged (plan, &upscale))
    return NULL;
  ns_plan_get_result_size (plan, &width, &height);
  if (upscale == NS_UPSCALE_BILINEAR)
    return g_strdup_printf (_("then enlarged to %d×%d (bilinear)"), width, height);
  return g_strdup_printf (_("then enlarged to %d×%d, guided by the full-size image"),
                          width, height);
}

/* "refined there in 5 iterations"; how, too, when the budget changed that.  NULL when
 * the run does not refine. */
static char *
refine_text (const NsPlan *plan)
{
  const NsPlanSize *refine = ns_plan_get_refinement (plan);
  g_autofree char *arrangement = NULL;

  if (refine == NULL || refine->iterations <= 0)
    return NULL;
  if (refine->as_asked)
    return g_strdup_printf (ngettext ("refined there in %d iteration",
                                      "refined there in %d iterations", refine->iterations),
                            refine->iterations);
  arrangement = arrangement_text (refine);
  /* TRANSLATORS: %s says how: "in tiles of 512 px, with Adam". */
  return g_strdup_printf (ngettext ("refined there in %d iteration, %s",
                                    "refined there in %d iterations, %s", refine->iterations),
                          refine->iterations, arrangement);
}

/* "180 MiB" */
static char *
mib_text (guint64 bytes)
{
  return unbreakable (g_strdup_printf (_("%lu MiB"), (gulong) (bytes >> 20)));
}

/* "estimated peak memory 180 MiB of an automatic budget of 6000 MiB" */
static char *
memory_text (const NsPlan *plan)
{
  gboolean automatic;
  g_autofree char *budget = mib_text (ns_plan_get_budget (plan, &automatic));
  g_autofree char *peak = mib_text (ns_plan_get_peak_bytes (plan));

  if (automatic)
    return g_strdup_printf (_("estimated peak memory %s of an automatic budget of %s"),
                            peak, budget);
  return g_strdup_printf (_("estimated peak memory %s of a budget of %s"), peak, budget);
}

/* "expected time about 3 min 04 s"; NULL when not measured. */
static char *
time_text (const NsPlan *plan)
{
  g_autofree char *duration = ns_plugin_format_duration (ns_plan_get_seconds (plan));

  if (*duration == '\0')
    return NULL;
  return g_strdup_printf (_("expected time about %s"), duration);
}

/* Joins the parts that are not NULL, and frees them. */
static char *
join_parts (GPtrArray *parts)
{
  g_auto (GStrv) strings = NULL;

  while (g_ptr_array_remove (parts, NULL))
    ;
  g_ptr_array_add (parts, NULL);
  strings = (GStrv) g_ptr_array_free (parts, FALSE);
  /* TRANSLATORS: between the parts of the plan ("…, 500 iterations; at 256×192: …"). */
  return g_strjoinv (C_("plan", "; "), strings);
}

char *
ns_plugin_plan_text (const NsPlan *plan)
{
  GPtrArray *parts = g_ptr_array_new ();
  int n = ns_plan_get_n_sizes (plan);

  g_ptr_array_add (parts, sizes_text (plan));
  /* Only the sizes the budget changed, and the last one, which costs most. */
  for (int k = 0; k < n; k++)
    if (k == n - 1 || ! ns_plan_get_size (plan, k)->as_asked)
      g_ptr_array_add (parts, size_text (ns_plan_get_size (plan, k)));
  g_ptr_array_add (parts, enlarge_text (plan));
  g_ptr_array_add (parts, refine_text (plan));
  g_ptr_array_add (parts, memory_text (plan));
  g_ptr_array_add (parts, time_text (plan));
  return join_parts (parts);
}

char *
ns_plugin_plan_summary (const NsPlan *plan)
{
  GPtrArray *parts = g_ptr_array_new ();

  g_ptr_array_add (parts, sizes_text (plan));
  g_ptr_array_add (parts, enlarge_text (plan));
  g_ptr_array_add (parts, memory_text (plan));
  return join_parts (parts);
}

/* What an engine error means to a GIMP user, and what to do about it; NULL where the
 * engine's message says it best (a mask or an image it cannot use, named there). */
static const char *
engine_error_lead (int code)
{
  switch (code)
    {
    case NS_ERROR_WEIGHTS:
      return _("The VGG-19 weights cannot be used: the file is damaged or is not VGG-19's. "
               "Get them again with “Get VGG-19…”, or choose the built-in network.");
    case NS_ERROR_WEIGHTS_NOT_FOUND:
      return _("VGG-19's weights are not installed. “Get VGG-19…” downloads them once; "
               "or choose the built-in network.");
    case NS_ERROR_MEMORY:
      return _("This run does not fit in the memory budget. Choose a smaller optimisation "
               "size, or allow more memory (Advanced, Memory budget).");
    case NS_ERROR_NUMERIC:
      return _("The optimisation broke down: its numbers overflowed. Try a lower style "
               "weight, or start from the content image.");
    case NS_ERROR_IO:
      return _("A file could not be read or written.");
    case NS_ERROR_DOWNLOAD:
      return _("Downloading VGG-19's weights failed.");
    case NS_ERROR_UNSUPPORTED:
      return _("This build of Neural Style lacks what this needs.");
    case NS_ERROR_CANCELLED:
      return _("Stopped.");
    default:
      return NULL;
    }
}

char *
ns_plugin_error_text (const GError *error)
{
  const char *lead;

  g_return_val_if_fail (error != NULL, NULL);

  lead = error->domain == NS_ERROR ? engine_error_lead (error->code) : NULL;
  if (lead == NULL)
    return g_strdup (error->message);
  if (error->code == NS_ERROR_CANCELLED)
    return g_strdup (lead);
  /* TRANSLATORS: an explanation, then the engine's own message in English. */
  return g_strdup_printf (_("%s (Details: %s)"), lead, error->message);
}
