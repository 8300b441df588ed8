/* error.c — the engine's GError domain. */
#include "neural-style.h"

G_DEFINE_QUARK (ns-error-quark, ns_error)
