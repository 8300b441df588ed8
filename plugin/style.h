/* style.h — the style layer: whether it can be used, and remembering it between runs.
 *
 * GIMP 3.0 stores no layer argument as a last value, so the layer is remembered by its ID
 * and name in two aux arguments of the procedure (not part of its PDB signature); a repeat
 * or re-shown run takes it back while that layer is still open. */
#ifndef NS_PLUGIN_STYLE_H
#define NS_PLUGIN_STYLE_H

#include <libgimp/gimp.h>

G_BEGIN_DECLS

/* Registers the aux arguments that remember the style layer (and other item arguments). */
void       ns_style_add_arguments (GimpProcedure *procedure);

/* Records the config's "style-layer" in it, to be stored as a last value after an
 * interactive run. */
void       ns_style_remember      (GimpProcedureConfig *config);

/* The same for the config's other layer and channel arguments named in `properties`
 * (NULL-terminated): their items' IDs and names. */
void       ns_style_remember_items (GimpProcedureConfig *config,
                                    const char * const  *properties);

/* Before a repeated or interactive run: each of those arguments that is unset takes back
 * the item remembered for it, if that is still open (and has the same name). */
void       ns_style_recall_items  (GimpProcedureConfig *config);

/* The layer a previous run remembered, if it is still open; else NULL, and if one had been
 * remembered, `gone` (when not NULL) gets its name.  Free it with g_free. */
GimpLayer *ns_style_recall        (GimpProcedureConfig *config, char **gone);

/* Before a repeated or interactive run (GIMP remembers no layer argument): the config's
 * "style-layer" if it is still open, else the one the last run remembered, else (when none
 * was remembered) `fallback`, which may be NULL.  When the remembered one is gone, an
 * interactive run gets `*notice` saying so (the user chooses in the dialog) and a repeat
 * fails with `*error`, which tells the user to choose a layer in `menu_path` (the
 * procedure's menu entry, translated, e.g. "Filters ▸ Artistic ▸ Neural Style…"). */
GimpPDBStatusType ns_style_recall_for_run (GimpProcedureConfig *config,
                                           GimpLayer           *fallback,
                                           GimpRunMode          run_mode,
                                           const char          *menu_path,
                                           char               **notice,
                                           GError             **error);

/* NULL when `style` can give a style; else a message for the user naming the layer and why
 * not (it no longer exists, or is smaller than the engine's NS_STYLE_MIN_SIDE).  Free it
 * with g_free. */
char      *ns_style_problem       (GimpLayer *style);
gboolean   ns_style_usable        (GimpLayer *style);

G_END_DECLS

#endif /* NS_PLUGIN_STYLE_H */
