/* status.h — the status line under the dialog's preview: a message, then the final run's
 * plan, estimated again a moment after the settings change (ui/status.c). */
#ifndef NS_UI_STATUS_H
#define NS_UI_STATUS_H

#include <libgimp/gimpui.h>

#include "job.h"

G_BEGIN_DECLS

typedef struct _NsStatus NsStatus;

/* A status line for runs of `config` on `drawable`; its plan is estimated soon. */
NsStatus  *ns_status_new         (GimpProcedureConfig *config,
                                  GimpDrawable        *drawable,
                                  NsNetworkCache      *networks);
/* Shows `message` (NULL: none) above the plan. */
void       ns_status_set_message (NsStatus            *status,
                                  const char          *message);
/* For an animation of `n_frames` frames (0: one layer): the estimate is of the image's
 * canvas and says what all the frames take. */
void       ns_status_set_frames  (NsStatus            *status,
                                  gint                 n_frames);
/* Estimates the final run's plan again after a short pause (the settings changed). */
void       ns_status_schedule    (NsStatus            *status);
/* The label, for the caller to pack. */
GtkWidget *ns_status_get_widget  (NsStatus            *status);
/* Stops a running estimate. */
void       ns_status_free        (NsStatus            *status);

G_END_DECLS

#endif /* NS_UI_STATUS_H */
