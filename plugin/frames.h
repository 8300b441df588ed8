/* frames.h — plug-in-neural-style-frames: the image's layers as the frames of an animation
 * (plugin/frames.c). */
#ifndef NS_PLUGIN_FRAMES_H
#define NS_PLUGIN_FRAMES_H

#include <libgimp/gimp.h>

#include "job.h"

G_BEGIN_DECLS

/* The procedure NS_FRAMES_PROC (Filters ▸ Animation ▸ Neural Style (frames)…).  `networks`
 * is the plug-in's, shared with the dialog's previews; it must outlive the procedure. */
GimpProcedure *ns_frames_procedure_new (GimpPlugIn     *plug_in,
                                        NsNetworkCache *networks);

G_END_DECLS

#endif /* NS_PLUGIN_FRAMES_H */
