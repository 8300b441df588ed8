/* regions.h — --style-mask and --rest (regions.c). */
#ifndef NS_CLI_REGIONS_H
#define NS_CLI_REGIONS_H
#include "cli.h"

G_BEGIN_DECLS

/* Checks --style-mask (one entry per style) and --rest into run; a usage error if not. */
gboolean cli_regions_parse (const CliArgs *a, int n_styles, CliRun *run, GError **error);
/* Reads the masks (grey; RGB taken as its luminance) and checks each against the content
 * as read: its shape (ns_region_mask_fits: any size), and that it is not all black.  FALSE
 * when one is unusable (said). */
gboolean cli_regions_load  (CliRun *run, const NsImage *content, guint64 budget);
/* The masks set on the stylizer, as read: the engine resizes them to the content as
 * stylized. */
gboolean cli_regions_apply (const CliRun *run, NsStylizer *stylizer, int n_styles,
                            GError **error);
void     cli_regions_clear (CliRun *run);

G_END_DECLS

#endif /* NS_CLI_REGIONS_H */
