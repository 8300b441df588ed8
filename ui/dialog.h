/* dialog.h — the Neural Style dialog (interactive runs). */
#ifndef NS_UI_DIALOG_H
#define NS_UI_DIALOG_H

#include <libgimp/gimp.h>

#include "job.h"

G_BEGIN_DECLS

/* Shows the dialog for `config`; TRUE when the user pressed OK.  `networks` is shared with
 * the final run, so a network loaded for the preview is not loaded twice. */
gboolean ns_dialog_run (GimpProcedure       *procedure,
                        GimpProcedureConfig *config,
                        GimpDrawable        *drawable,
                        NsNetworkCache      *networks);

G_END_DECLS

#endif /* NS_UI_DIALOG_H */
