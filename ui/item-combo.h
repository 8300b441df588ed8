/* item-combo.h — the dialog's pickers of layers and channels: GIMP's item combos, labelled
 * by item name as GIMP's own pickers are, and refilled while the dialog is open
 * (ui/item-combo.c). */
#ifndef NS_UI_ITEM_COMBO_H
#define NS_UI_ITEM_COMBO_H

#include <libgimp/gimpui.h>

G_BEGIN_DECLS

/* What a picker offers, for a run on a drawable. */
typedef enum
{
  NS_ITEMS_STYLE_LAYERS,   /* every open image's layers but the drawable               */
  NS_ITEMS_CHANNELS,       /* the channels of the drawable's image                     */
  NS_ITEMS_MASKED_LAYERS   /* the layers of the drawable's image that have a layer mask */
} NsItems;

/* A GimpIntComboBox of `items` (values: item IDs) with their thumbnails, each labelled by the
 * item's name ("painting (starry-night.jpg)" for a layer of another image, a dash per
 * enclosing group); `none`, if not NULL, is a first row of value -1 meaning no item.  For
 * the tests its labels are recorded as the dialog state "labels-KEY". */
GtkWidget *ns_item_combo_new     (NsItems       items,
                                  GimpDrawable *drawable,
                                  const char   *none,
                                  const char   *key);

/* Lists the items as they are now, keeping the chosen one if it is still there (else none is
 * chosen), without emitting "changed".  FALSE, doing nothing, while its list is open. */
gboolean   ns_item_combo_refill  (GtkWidget    *combo);

/* What the pickers of a run on `drawable` may list, as a string that changes when that does:
 * the open images, their layers, and the drawable's image's channels and layer masks.  GIMP
 * tells a plug-in of no change, so the dialog compares these from time to time. */
char      *ns_item_combo_listing (GimpDrawable *drawable);

G_END_DECLS

#endif /* NS_UI_ITEM_COMBO_H */
