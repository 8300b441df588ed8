/* dialog.h — the Neural Style dialog (interactive runs). */
#ifndef NS_UI_DIALOG_H
#define NS_UI_DIALOG_H

#include <libgimp/gimp.h>

#include "job.h"

G_BEGIN_DECLS

/* Shows the dialog for `config`; TRUE when the user pressed OK with a usable style layer.
 * `networks` is shared with the final run, so a network loaded for the preview is not
 * loaded twice.  `notice`, if not NULL, says why no style layer is chosen (the last run's
 * is gone): then none is chosen until the user does. */
gboolean ns_dialog_run (GimpProcedure       *procedure,
                        GimpProcedureConfig *config,
                        GimpDrawable        *drawable,
                        NsNetworkCache      *networks,
                        const char          *notice);

/* The same for plug-in-neural-style-frames: the image's `n_frames` layers are the frames;
 * `drawable` is the one the preview shows.  It has the temporal weight and no output choice,
 * and its estimate is for all the frames. */
gboolean ns_dialog_run_frames (GimpProcedure       *procedure,
                               GimpProcedureConfig *config,
                               GimpDrawable        *drawable,
                               gint                 n_frames,
                               NsNetworkCache      *networks,
                               const char          *notice);

G_END_DECLS

#endif /* NS_UI_DIALOG_H */
