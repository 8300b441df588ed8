/* state.h — what the dialog shows, kept in a file for the GIMP tests (no accessibility bus
 * there). */
#ifndef NS_UI_STATE_H
#define NS_UI_STATE_H

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Testing: records "key value" in the file named by $NS_PLUGIN_DIALOG_STATE, if set. */
void ns_ui_state_set (const char *key, const char *value);
/* The same with "x y width height" of `widget` in its window. */
void ns_ui_state_set_geometry (const char *key, GtkWidget *widget);
/* A "size-allocate" handler whose data is a key: ns_ui_state_set_geometry, so that a test
 * can click the widget (buttons without a mnemonic). */
void ns_ui_state_record_geometry (GtkWidget    *widget,
                                  GdkRectangle *allocation,
                                  const char   *key);

G_END_DECLS

#endif /* NS_UI_STATE_H */
