/* json-reader.c — a strict JSON reader for headers that may be hostile (safetensors.c):
 * it validates as it goes, allocates only what the caller keeps, limits nesting, and says
 * where the first problem is.  The caller drives it by the schema it expects. */
#include <string.h>

#include "json-reader.h"

#define MAX_JSON_DEPTH 64

gboolean
ns_json_fail (NsJsonReader *r, const char *format, ...)
{
  va_list args;
  char *what;

  if (r->error != NULL)
    return FALSE;
  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  r->error = g_strdup_printf ("invalid JSON in the header at byte %" G_GSIZE_FORMAT ": %s",
                              (gsize) (r->p - r->start), what);
  g_free (what);
  return FALSE;
}

void
ns_json_skip_ws (NsJsonReader *r)
{
  while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
    r->p++;
}

/* Skips whitespace, then consumes `c` if it is next. */
gboolean
ns_json_accept (NsJsonReader *r, char c)
{
  ns_json_skip_ws (r);
  if (r->p < r->end && *r->p == c)
    {
      r->p++;
      return TRUE;
    }
  return FALSE;
}

gboolean
ns_json_expect (NsJsonReader *r, char c)
{
  if (ns_json_accept (r, c))
    return TRUE;
  if (r->p >= r->end)
    return ns_json_fail (r, "unexpected end, expected '%c'", c);
  return ns_json_fail (r, "expected '%c'", c);
}

static int
hex_digit (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static gboolean
json_read_hex4 (NsJsonReader *r, guint *out)
{
  guint v = 0;

  if (r->end - r->p < 4)
    return ns_json_fail (r, "truncated \\u escape");
  for (int i = 0; i < 4; i++)
    {
      int d = hex_digit (r->p[i]);
      if (d < 0)
        return ns_json_fail (r, "bad \\u escape");
      v = v * 16 + (guint) d;
    }
  r->p += 4;
  *out = v;
  return TRUE;
}

/* Reads a string (the opening quote is next).  `out` may be NULL to only validate. */
gboolean
ns_json_read_string (NsJsonReader *r, char **out)
{
  GString *s = out != NULL ? g_string_new (NULL) : NULL;
  const char *begin;

  ns_json_skip_ws (r);
  if (r->p >= r->end || *r->p != '"')
    {
      if (s != NULL)
        g_string_free (s, TRUE);
      return ns_json_fail (r, "expected a string");
    }
  r->p++;
  begin = r->p;
  for (;;)
    {
      guchar c;

      if (r->p >= r->end)
        {
          ns_json_fail (r, "unterminated string");
          goto fail;
        }
      c = (guchar) *r->p;
      if (c == '"')
        break;
      if (c < 0x20)
        {
          ns_json_fail (r, "control character in a string");
          goto fail;
        }
      if (c != '\\')
        {
          if (s != NULL)
            g_string_append_c (s, (char) c);
          r->p++;
          continue;
        }
      /* An escape sequence. */
      r->p++;
      if (r->p >= r->end)
        {
          ns_json_fail (r, "unterminated string");
          goto fail;
        }
      c = (guchar) *r->p++;
      switch (c)
        {
        case '"': case '\\': case '/':
          if (s != NULL) g_string_append_c (s, (char) c);
          break;
        case 'b': if (s != NULL) g_string_append_c (s, '\b'); break;
        case 'f': if (s != NULL) g_string_append_c (s, '\f'); break;
        case 'n': if (s != NULL) g_string_append_c (s, '\n'); break;
        case 'r': if (s != NULL) g_string_append_c (s, '\r'); break;
        case 't': if (s != NULL) g_string_append_c (s, '\t'); break;
        case 'u':
          {
            guint cp = 0, lo = 0;

            if (!json_read_hex4 (r, &cp))
              goto fail;
            if (cp >= 0xDC00 && cp <= 0xDFFF)
              {
                ns_json_fail (r, "unpaired surrogate in \\u escape");
                goto fail;
              }
            if (cp >= 0xD800 && cp <= 0xDBFF)
              {
                if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
                  {
                    ns_json_fail (r, "unpaired surrogate in \\u escape");
                    goto fail;
                  }
                r->p += 2;
                if (!json_read_hex4 (r, &lo))
                  goto fail;
                if (lo < 0xDC00 || lo > 0xDFFF)
                  {
                    ns_json_fail (r, "unpaired surrogate in \\u escape");
                    goto fail;
                  }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              }
            /* Names become C strings, so an embedded NUL would silently cut them. */
            if (cp == 0)
              {
                ns_json_fail (r, "NUL character in a string");
                goto fail;
              }
            if (s != NULL)
              g_string_append_unichar (s, (gunichar) cp);
            break;
          }
        default:
          r->p--;
          ns_json_fail (r, "unknown escape '\\%c'", c >= 0x20 && c < 0x7f ? c : '?');
          goto fail;
        }
    }
  if (!g_utf8_validate (begin, r->p - begin, NULL))
    {
      ns_json_fail (r, "a string is not valid UTF-8");
      goto fail;
    }
  r->p++;   /* closing quote */
  if (s != NULL)
    *out = g_string_free (s, FALSE);
  return TRUE;

fail:
  if (s != NULL)
    g_string_free (s, TRUE);
  return FALSE;
}

/* Reads a number following the JSON grammar exactly.  Only plain non-negative integers
 * are ever used by the schema, so only those get a value. */
gboolean
ns_json_read_number (NsJsonReader *r, NsJsonNumber *kind, guint64 *value)
{
  gboolean negative = FALSE, overflow = FALSE, fraction = FALSE;
  guint64 v = 0;

  ns_json_skip_ws (r);
  if (r->p < r->end && *r->p == '-')
    {
      negative = TRUE;
      r->p++;
    }
  if (r->p >= r->end || !g_ascii_isdigit (*r->p))
    return ns_json_fail (r, "expected a number");
  if (*r->p == '0' && r->p + 1 < r->end && g_ascii_isdigit (r->p[1]))
    return ns_json_fail (r, "number with a leading zero");
  while (r->p < r->end && g_ascii_isdigit (*r->p))
    {
      guint d = (guint) (*r->p - '0');
      if (v > ((guint64) G_MAXINT64 - d) / 10)
        overflow = TRUE;
      else
        v = v * 10 + d;
      r->p++;
    }
  if (r->p < r->end && *r->p == '.')
    {
      fraction = TRUE;
      r->p++;
      if (r->p >= r->end || !g_ascii_isdigit (*r->p))
        return ns_json_fail (r, "expected digits after '.'");
      while (r->p < r->end && g_ascii_isdigit (*r->p))
        r->p++;
    }
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E'))
    {
      fraction = TRUE;
      r->p++;
      if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
        r->p++;
      if (r->p >= r->end || !g_ascii_isdigit (*r->p))
        return ns_json_fail (r, "expected digits in an exponent");
      while (r->p < r->end && g_ascii_isdigit (*r->p))
        r->p++;
    }
  if (negative || fraction)
    *kind = NS_JSON_OTHER;
  else
    *kind = overflow ? NS_JSON_TOO_LARGE : NS_JSON_UINT;
  *value = v;
  return TRUE;
}

static gboolean
json_read_literal (NsJsonReader *r, const char *word)
{
  gsize len = strlen (word);

  if ((gsize) (r->end - r->p) < len || memcmp (r->p, word, len) != 0)
    return ns_json_fail (r, "unexpected character");
  r->p += len;
  return TRUE;
}

/* Validates and skips any value (for keys the schema does not use). */
gboolean
ns_json_skip_value (NsJsonReader *r, int depth)
{
  ns_json_skip_ws (r);
  if (r->p >= r->end)
    return ns_json_fail (r, "unexpected end, expected a value");
  if (depth > MAX_JSON_DEPTH)
    return ns_json_fail (r, "nested more than %d levels deep", MAX_JSON_DEPTH);

  switch (*r->p)
    {
    case '"':
      return ns_json_read_string (r, NULL);
    case 't':
      return json_read_literal (r, "true");
    case 'f':
      return json_read_literal (r, "false");
    case 'n':
      return json_read_literal (r, "null");
    case '[':
      r->p++;
      if (ns_json_accept (r, ']'))
        return TRUE;
      do
        if (!ns_json_skip_value (r, depth + 1))
          return FALSE;
      while (ns_json_accept (r, ','));
      return ns_json_expect (r, ']');
    case '{':
      r->p++;
      if (ns_json_accept (r, '}'))
        return TRUE;
      do
        if (!ns_json_read_string (r, NULL) || !ns_json_expect (r, ':')
            || !ns_json_skip_value (r, depth + 1))
          return FALSE;
      while (ns_json_accept (r, ','));
      return ns_json_expect (r, '}');
    default:
      {
        NsJsonNumber kind;
        guint64 v;
        if (*r->p == '-' || g_ascii_isdigit (*r->p))
          return ns_json_read_number (r, &kind, &v);
        return ns_json_fail (r, "unexpected character");
      }
    }
}

/* Iterates over an object's members: call with *first = TRUE after the '{' was consumed.
 * Returns FALSE on a syntax error; sets *done at the closing brace, otherwise *key. */
gboolean
ns_json_object_next (NsJsonReader *r, gboolean *first, gboolean *done, char **key)
{
  *done = ns_json_accept (r, '}');
  if (*done)
    return TRUE;
  if (!*first && !ns_json_expect (r, ','))
    return FALSE;
  *first = FALSE;
  if (!ns_json_read_string (r, key))
    return FALSE;
  if (!ns_json_expect (r, ':'))
    {
      if (key != NULL)
        g_clear_pointer (key, g_free);
      return FALSE;
    }
  return TRUE;
}

/* Same for arrays: after '[', returns with *done set at ']', else the element is next. */
gboolean
ns_json_array_next (NsJsonReader *r, gboolean *first, gboolean *done)
{
  *done = ns_json_accept (r, ']');
  if (*done)
    return TRUE;
  if (!*first && !ns_json_expect (r, ','))
    return FALSE;
  *first = FALSE;
  return TRUE;
}
