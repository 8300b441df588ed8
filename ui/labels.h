/* labels.h — how the dialog's controls read (ui/labels.c). */
#ifndef NS_UI_LABELS_H
#define NS_UI_LABELS_H

#include <libgimp/gimpui.h>

G_BEGIN_DECLS

/* The control of `property` (a GimpLabelSpin or GimpScaleEntry), where 0 means something
 * else than a number: its spin button shows `text` at 0 and accepts it back. */
void ns_spin_show_zero_as (GimpProcedureDialog *dialog,
                           const char          *property,
                           const char          *text);

/* The labels of these properties' controls (GimpLabelSpin, GimpScaleEntry) share one width,
 * so do their spin buttons, and their sliders have one minimum width, so that long
 * translations cannot squeeze them. */
void ns_align_controls (GimpProcedureDialog *dialog,
                        const char * const  *properties);

G_END_DECLS

#endif /* NS_UI_LABELS_H */
