/* state.h — where the dialog's buttons are, for the tests (ui/state.c). */
#ifndef NS_UI_STATE_H
#define NS_UI_STATE_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A "size-allocate" handler whose data is a key: records "KEY x y width height", the
 * widget's place in its window, with ns_ui_state_set, so that a test can click it (buttons
 * without a mnemonic). */
void ns_ui_state_record_geometry (GtkWidget    *widget,
                                  GdkRectangle *allocation,
                                  const char   *key);

G_END_DECLS

#endif /* NS_UI_STATE_H */
