/* state.c — where the dialog's buttons are, for the tests (see ns_ui_state_set). */
#include "state.h"

#include "preview.h"

void
ns_ui_state_record_geometry (GtkWidget    *widget,
                             GdkRectangle *allocation,
                             const char   *key)
{
  g_autofree char *geometry = NULL;
  gint x, y;

  if (! gtk_widget_translate_coordinates (widget, gtk_widget_get_toplevel (widget), 0, 0,
                                          &x, &y))
    return;
  geometry = g_strdup_printf ("%d %d %d %d", x, y, gtk_widget_get_allocated_width (widget),
                              gtk_widget_get_allocated_height (widget));
  ns_ui_state_set (key, geometry);
}
