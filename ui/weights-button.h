/* weights-button.h — the dialog's "Get VGG-19…" row (ui/weights-button.c). */
#ifndef NS_UI_WEIGHTS_BUTTON_H
#define NS_UI_WEIGHTS_BUTTON_H

#include <libgimp/gimpui.h>

G_BEGIN_DECLS

typedef struct _NsWeightsRow NsWeightsRow;

/* A button that downloads the VGG-19 weights, with its progress, Cancel and messages; it
 * sets `config`'s "network" to VGG-19 when they are in.  Hidden when weights are found. */
NsWeightsRow *ns_weights_row_new        (GimpProcedureConfig *config);
GtkWidget    *ns_weights_row_get_widget (NsWeightsRow *row);
/* Stops a running download and waits for it. */
void          ns_weights_row_free       (NsWeightsRow *row);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsWeightsRow, ns_weights_row_free)

G_END_DECLS

#endif /* NS_UI_WEIGHTS_BUTTON_H */
