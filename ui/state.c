/* state.c — NS_PLUGIN_DIALOG_STATE names a file that the dialog keeps up to date with what it
 * shows, one "key value" line per entry, for tests/gimp/ (no accessibility bus there). */
#include "state.h"

#include <glib/gstdio.h>

static GHashTable *ui_state;

static char *
escape_line (const char *text)
{
  GString *s = g_string_new (NULL);

  for (const char *c = text; *c; c++)
    if (*c == '\n')
      g_string_append (s, "\\n");
    else if (*c == '\\')
      g_string_append (s, "\\\\");
    else
      g_string_append_c (s, *c);
  return g_string_free (s, FALSE);
}

void
ns_ui_state_set (const char *key,
                 const char *value)
{
  const char *path = g_getenv ("NS_PLUGIN_DIALOG_STATE");
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *tmp = NULL;
  GHashTableIter iter;
  gpointer k, v;

  if (path == NULL || *path == '\0')
    return;
  if (ui_state == NULL)
    ui_state = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (ui_state, g_strdup (key), escape_line (value ? value : ""));

  g_hash_table_iter_init (&iter, ui_state);
  while (g_hash_table_iter_next (&iter, &k, &v))
    g_string_append_printf (text, "%s %s\n", (char *) k, (char *) v);
  tmp = g_strconcat (path, ".tmp", NULL);
  if (g_file_set_contents (tmp, text->str, -1, NULL))
    g_rename (tmp, path);
}

void
ns_ui_state_set_geometry (const char *key,
                          GtkWidget  *widget)
{
  GtkWidget *top = gtk_widget_get_toplevel (widget);
  g_autofree char *geometry = NULL;
  gint x, y;

  if (g_getenv ("NS_PLUGIN_DIALOG_STATE") == NULL ||
      ! gtk_widget_translate_coordinates (widget, top, 0, 0, &x, &y))
    return;
  geometry = g_strdup_printf ("%d %d %d %d", x, y, gtk_widget_get_allocated_width (widget),
                              gtk_widget_get_allocated_height (widget));
  ns_ui_state_set (key, geometry);
}

void
ns_ui_state_record_geometry (GtkWidget    *widget,
                             GdkRectangle *allocation,
                             const char   *key)
{
  ns_ui_state_set_geometry (key, widget);
}
