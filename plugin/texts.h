/* texts.h — what the engine reports, said in the user's language: durations, progress and
 * the run's plan.  GLib and gettext only (no GIMP), so that the tests can run it. */
#ifndef NS_PLUGIN_TEXTS_H
#define NS_PLUGIN_TEXTS_H

#include <glib.h>

#include "neural-style.h"

G_BEGIN_DECLS

/* "12 s", "3 min 04 s", "1 h 05 min"; "" when unknown. */
char *ns_plugin_format_duration (double seconds);

/* What the run is doing, for a progress bar: "Iteration 120 of 500 at 256×192, about
 * 3 min left" (iterations counted at the current size), "Enlarging to …", "Refining …". */
char *ns_plugin_progress_text   (const NsProgress *progress);

/* The plan for the dialog's status line (it wraps): the sizes and iterations, how the sizes
 * run where the memory budget changed that (and at the last size), the enlargement and
 * refinement, the estimated peak memory and budget, the expected time. */
char *ns_plugin_plan_text       (const NsPlan *plan);

/* The same in brief, for the one line of GIMP's progress: the sizes and iterations, the
 * enlargement, the memory. */
char *ns_plugin_plan_summary    (const NsPlan *plan);

/* An error for a GIMP user: for the engine's errors, what went wrong and what to do in the
 * user's language, then the engine's own (English) message as the details; other errors'
 * messages as they are. */
char *ns_plugin_error_text      (const GError *error);
G_END_DECLS

#endif /* NS_PLUGIN_TEXTS_H */
