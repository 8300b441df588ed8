/* style-rows.h — the dialog's "More styles and regions": for each style its weight and its
 * Region (Everywhere, Selection, Channel, Layer mask) with a channel or mask-layer picker
 * when that applies; styles 2 and 3 with their layers (none by default); and what lies
 * outside the regions gets.  The arguments are those of plugin/regions.h. */
#ifndef NS_UI_STYLE_ROWS_H
#define NS_UI_STYLE_ROWS_H

#include <libgimp/gimpui.h>

G_BEGIN_DECLS

typedef struct _NsStyleRows NsStyleRows;

/* Builds the rows into `dialog` as the collapsed expander with container id "regions",
 * for gimp_procedure_dialog_fill_box and friends. */
NsStyleRows *ns_style_rows_new    (GimpProcedureDialog *dialog,
                                   GimpProcedureConfig *config,
                                   GimpDrawable        *drawable);
/* Refills the pickers with the open images' layers and channels as they are now
 * (ns_item_combo_refill); FALSE if one had its list open and was left as it was. */
gboolean     ns_style_rows_refill (NsStyleRows *rows);
void         ns_style_rows_free   (NsStyleRows *rows);

G_END_DECLS

#endif /* NS_UI_STYLE_ROWS_H */
