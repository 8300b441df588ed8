/* preview.h — the dialog's preview: the visible part of the layer at 100% or the whole layer
 * fitted, stylized on request in a worker thread, redrawn every few iterations, with a
 * progress bar, a Stop button, and a status line with the final run's plan. */
#ifndef NS_UI_PREVIEW_H
#define NS_UI_PREVIEW_H

#include <libgimp/gimpui.h>

#include "job.h"
#include "state.h"

G_BEGIN_DECLS

typedef struct _NsPreview NsPreview;

/* Builds the preview into `dialog` under the container id "preview-box" (the previews,
 * the Preview/Stop buttons and the "Whole layer" toggle, a progress bar), ready to be
 * packed with gimp_procedure_dialog_fill_box and friends; the status line is separate. */
NsPreview *ns_preview_new  (GimpProcedureDialog *dialog,
                            GimpProcedureConfig *config,
                            GimpDrawable        *drawable,
                            NsNetworkCache      *networks);
/* Shows a message in the status line (e.g. about the network), above the final run's plan. */
void       ns_preview_set_status (NsPreview *preview, const char *message);
/* For an animation of `n_frames` frames (0: one layer): the final run's estimate is made
 * for the image's canvas, which every frame is stylized on, and says what all the frames
 * take. */
void       ns_preview_set_frames (NsPreview *preview, gint n_frames);
/* The status line: the caller packs it (it is as wide as the dialog). */
GtkWidget *ns_preview_get_status (NsPreview *preview);
/* Stops a running preview and waits for its thread; call before the final run. */
void       ns_preview_free (NsPreview *preview);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NsPreview, ns_preview_free)

G_END_DECLS

#endif /* NS_UI_PREVIEW_H */
