/* json-reader.h — the engine's strict JSON reader (json-reader.c), for safetensors headers. */
#ifndef NS_JSON_READER_H
#define NS_JSON_READER_H

#include <glib.h>

typedef struct
{
  const char *start;
  const char *p;
  const char *end;
  char       *error;            /* first problem found; owned */
} NsJsonReader;

/* What a number read turned out to be: an unsigned integer that fits 64 bits, a larger one,
 * or anything else JSON allows (negative, fraction, exponent). */
typedef enum { NS_JSON_UINT, NS_JSON_TOO_LARGE, NS_JSON_OTHER } NsJsonNumber;

/* Fails with `what`, or with "unexpected end" when the header simply stops (truncation). */
#define ns_json_fail_shape(r, ...) \
  ((r)->p >= (r)->end ? ns_json_fail ((r), "unexpected end of the header") \
                      : ns_json_fail ((r), __VA_ARGS__))

/* Every call returns FALSE on the first problem, which r->error then describes. */
gboolean ns_json_fail (NsJsonReader *r, const char *format, ...) G_GNUC_PRINTF (2, 3);
void     ns_json_skip_ws (NsJsonReader *r);
gboolean ns_json_accept (NsJsonReader *r, char c);
gboolean ns_json_expect (NsJsonReader *r, char c);
gboolean ns_json_read_string (NsJsonReader *r, char **out);
gboolean ns_json_read_number (NsJsonReader *r, NsJsonNumber *kind, guint64 *value);
/* Validates and skips a value the schema does not use; depth 0 at the top. */
gboolean ns_json_skip_value (NsJsonReader *r, int depth);
/* Members of an object after its '{' (*first = TRUE at the start): *done at the '}',
 * otherwise *key (NULL: not kept) and the value is next.  Arrays likewise. */
gboolean ns_json_object_next (NsJsonReader *r, gboolean *first, gboolean *done, char **key);
gboolean ns_json_array_next (NsJsonReader *r, gboolean *first, gboolean *done);

#endif /* NS_JSON_READER_H */
