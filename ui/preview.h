/* preview.h — the dialog's preview: the visible part of the layer stylized on request, in a
 * worker thread, redrawn every few iterations, with a progress bar and a Stop button. */
#ifndef NS_UI_PREVIEW_H
#define NS_UI_PREVIEW_H

#include <libgimp/gimpui.h>

#include "job.h"

G_BEGIN_DECLS

typedef struct _NsPreview NsPreview;

/* Builds the preview into `dialog` under the container id "preview-box" (the drawable
 * preview, its Preview/Stop buttons, a progress bar and a status line), ready to be packed
 * with gimp_procedure_dialog_fill_box and friends. */
NsPreview *ns_preview_new  (GimpProcedureDialog *dialog,
                            GimpProcedureConfig *config,
                            GimpDrawable        *drawable,
                            NsNetworkCache      *networks);
/* Shows a one-line message under the preview (e.g. about the network). */
void       ns_preview_set_status (NsPreview *preview, const char *message);
/* Stops a running preview and waits for its thread; call before the final run. */
void       ns_preview_free (NsPreview *preview);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsPreview, ns_preview_free)

G_END_DECLS

#endif /* NS_UI_PREVIEW_H */
