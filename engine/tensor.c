/* tensor.c — float CHW tensors on 64-byte aligned storage.
 *
 * 64-byte alignment matches an AVX-512 register and a cache line, so the BLAS kernels and
 * the compiler's vector loops never straddle lines at the start of a plane. */

#include <string.h>
#include <sys/mman.h>

#include "ns-internal.h"

#define NS_FLOAT_ALIGN 64
#define NS_HUGE_PAGE  ((gsize) 2 << 20)
#define NS_HUGE_MIN   ((gsize) 8 << 20)

static float *
fresh_floats (gsize n)
{
  /* g_aligned_alloc returns NULL for zero bytes; keep a valid pointer so callers need no
   * special case for empty tensors. */
  gsize bytes = MAX (n, 1) * sizeof (float);
  float *p;

  if (bytes < NS_HUGE_MIN)
    return g_aligned_alloc (MAX (n, 1), sizeof (float), NS_FLOAT_ALIGN);
  /* Buffers this large come fresh from mmap on every allocation, and the kernel's page
   * faults on 4 KiB pages took a third of a tiled evaluation's time; transparent huge
   * pages (where the system offers them on request) fault 512 times less often.  Only
   * whole huge pages inside the buffer are marked, so the resident size is unchanged. */
  p = g_aligned_alloc (MAX (n, 1), sizeof (float), NS_HUGE_PAGE);
#ifdef MADV_HUGEPAGE
  madvise (p, bytes & ~(NS_HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
  return p;
}

/* ---- buffers kept between evaluations ----------------------------------------------------
 *
 * Every evaluation allocates the same large buffers again (activations, gradients), and
 * each comes fresh from mmap: the kernel's faulting and zeroing of those pages was a third
 * of the CPU time of a run.  While a cache is in use on a thread, large buffers allocated
 * there are kept when freed (from any thread) and handed out again for the same size.
 * Buffers handed out and kept never add up to more than the most ever handed out at once
 * plus the cache's slack: with none the peak stays what it was without the cache, but an
 * evaluation that keeps a large buffer idle between two uses then finds no room for the
 * smaller ones in between, and fetches them fresh every time (a quarter of the CPU time
 * at 512 px); the memory plan grants a slack where the budget allows it. */

#define NS_CACHE_MIN ((gsize) 1 << 20)     /* smaller ones come from the heap anyway */

struct _NsBufferCache
{
  int      ref;             /* the owner's, and one per buffer handed out */
  gboolean closed;          /* the owner has let go: returned buffers are freed */
  gsize    live, kept_bytes, high, slack;
  guint    fresh;           /* buffers fetched from the system, kept or not */
  GQueue   kept;            /* Buffer *, oldest first */
};

typedef struct
{
  float         *p;
  gsize          n;
  NsBufferCache *cache;
} Buffer;

static GMutex      cache_lock;
static GHashTable *handed_out;          /* float * → Buffer *, under cache_lock */
static gint        n_caches;            /* caches alive: frees look them up only then */
static GPrivate    current_cache;

static void
cache_unref_locked (NsBufferCache *cache)
{
  if (--cache->ref > 0)
    return;
  g_free (cache);
  g_atomic_int_add (&n_caches, -1);
}

static void
buffer_free (Buffer *b)
{
  g_aligned_free (b->p);
  g_free (b);
}

NsBufferCache *
ns_buffer_cache_new (gsize slack)
{
  NsBufferCache *cache = g_new0 (NsBufferCache, 1);

  cache->ref = 1;
  cache->slack = slack;
  g_queue_init (&cache->kept);
  g_atomic_int_inc (&n_caches);
  return cache;
}

void
ns_buffer_cache_free (NsBufferCache *cache)
{
  Buffer *b;

  if (cache == NULL)
    return;
  g_mutex_lock (&cache_lock);
  cache->closed = TRUE;
  while ((b = g_queue_pop_head (&cache->kept)) != NULL)
    buffer_free (b);
  cache->kept_bytes = 0;
  cache_unref_locked (cache);
  g_mutex_unlock (&cache_lock);
}

NsBufferCache *
ns_buffer_cache_use (NsBufferCache *cache)
{
  NsBufferCache *previous = g_private_get (&current_cache);

  g_private_set (&current_cache, cache);
  return previous;
}

guint
ns_buffer_cache_fresh (NsBufferCache *cache)
{
  guint fresh;

  g_mutex_lock (&cache_lock);
  fresh = cache->fresh;
  g_mutex_unlock (&cache_lock);
  return fresh;
}

/* Kept buffers this many times larger than a request are not let go to make room for it. */
#define EVICT_MAX_RATIO 2

/* Lets the oldest kept buffers (of at most EVICT_MAX_RATIO × bytes) go until a fresh one of
 * `bytes` fits within the most ever handed out at once and the slack; FALSE if it still
 * does not. */
static gboolean
make_room (NsBufferCache *cache, gsize bytes)
{
  gsize limit = MAX (cache->high + cache->slack, cache->live + bytes);
  GList *l = cache->kept.head;

  while (l != NULL && cache->live + cache->kept_bytes + bytes > limit)
    {
      Buffer *old = l->data;
      GList *next = l->next;

      if (old->n * sizeof (float) <= EVICT_MAX_RATIO * bytes)
        {
          g_queue_delete_link (&cache->kept, l);
          cache->kept_bytes -= old->n * sizeof (float);
          buffer_free (old);
        }
      l = next;
    }
  return cache->live + cache->kept_bytes + bytes <= limit;
}

static float *
cache_alloc (NsBufferCache *cache, gsize n)
{
  gsize bytes = n * sizeof (float);
  Buffer *b = NULL;

  g_mutex_lock (&cache_lock);
  for (GList *l = cache->kept.head; l != NULL; l = l->next)
    if (((Buffer *) l->data)->n == n)
      {
        b = l->data;
        g_queue_delete_link (&cache->kept, l);
        cache->kept_bytes -= bytes;
        break;
      }
  if (b == NULL && ! make_room (cache, bytes))
    {
      /* Only large buffers could make room: a small one beside an evaluation's large
       * activations is not worth one of them (refinement let one of its 54-channel
       * activations go for a 7-MB buffer and faulted it in afresh at every evaluation).
       * It is not kept. */
      cache->fresh++;
      g_mutex_unlock (&cache_lock);
      return fresh_floats (n);
    }
  if (b == NULL)
    {
      cache->fresh++;
      b = g_new (Buffer, 1);
      b->p = fresh_floats (n);
      b->n = n;
      b->cache = cache;
    }
  cache->live += bytes;
  cache->high = MAX (cache->high, cache->live);
  cache->ref++;
  if (handed_out == NULL)
    handed_out = g_hash_table_new (NULL, NULL);
  g_hash_table_insert (handed_out, b->p, b);
  g_mutex_unlock (&cache_lock);
  return b->p;
}

/* TRUE if p came from a cache (and is now back in it, or freed). */
static gboolean
cache_return (float *p)
{
  Buffer *b;

  g_mutex_lock (&cache_lock);
  b = handed_out ? g_hash_table_lookup (handed_out, p) : NULL;
  if (b != NULL)
    {
      NsBufferCache *cache = b->cache;

      g_hash_table_remove (handed_out, p);
      cache->live -= b->n * sizeof (float);
      if (cache->closed)
        buffer_free (b);
      else
        {
          g_queue_push_tail (&cache->kept, b);
          cache->kept_bytes += b->n * sizeof (float);
        }
      cache_unref_locked (cache);
    }
  g_mutex_unlock (&cache_lock);
  return b != NULL;
}

float *
ns_floats_alloc (gsize n)
{
  NsBufferCache *cache = g_private_get (&current_cache);

  if (cache != NULL && n * sizeof (float) >= NS_CACHE_MIN)
    return cache_alloc (cache, n);
  return fresh_floats (n);
}

/* ---- memory-bound loops over the threads: the first touch of fresh pages (the kernel's
 * zeroing of them) is shared out too -------------------------------------------------------- */

typedef struct
{
  float       *dst;
  const float *src;
} Floats;

static void
zero_range (gsize from, gsize to, gpointer data)
{
  Floats *f = data;

  memset (f->dst + from, 0, (to - from) * sizeof (float));
}

static void
copy_range (gsize from, gsize to, gpointer data)
{
  Floats *f = data;

  memcpy (f->dst + from, f->src + from, (to - from) * sizeof (float));
}

static void
add_range (gsize from, gsize to, gpointer data)
{
  Floats *f = data;
  float *restrict d = f->dst;
  const float *restrict s = f->src;

  for (gsize i = from; i < to; i++)
    d[i] += s[i];
}

void
ns_floats_zero (float *dst, gsize n)
{
  Floats f = { dst, NULL };

  ns_parallel_range (n, NS_CHUNK, 1, zero_range, &f);
}

void
ns_floats_copy (float *dst, const float *src, gsize n)
{
  Floats f = { dst, src };

  ns_parallel_range (n, NS_CHUNK, 1, copy_range, &f);
}

void
ns_floats_add (float *dst, const float *src, gsize n)
{
  Floats f = { dst, src };

  ns_parallel_range (n, NS_CHUNK, 1, add_range, &f);
}

float *
ns_floats_new (gsize n)
{
  float *p = ns_floats_alloc (n);

  ns_floats_zero (p, MAX (n, 1));
  return p;
}

gpointer
ns_scratch_alloc (gsize bytes)
{
  /* The storage has no type of its own: as floats it goes through the cache. */
  return ns_floats_alloc ((bytes + sizeof (float) - 1) / sizeof (float));
}

void
ns_scratch_free (gpointer p)
{
  ns_floats_free (p);
}

void
ns_floats_free (float *p)
{
  if (p != NULL && g_atomic_int_get (&n_caches) > 0 && cache_return (p))
    return;
  g_aligned_free (p);
}

NsTensor *
ns_tensor_new_uninit (int c, int h, int w)
{
  NsTensor *t;

  g_return_val_if_fail (c >= 0 && h >= 0 && w >= 0, NULL);

  t = g_new (NsTensor, 1);
  t->c = c;
  t->h = h;
  t->w = w;
  t->data = ns_floats_alloc (ns_tensor_len (t));
  return t;
}

NsTensor *
ns_tensor_new (int c, int h, int w)
{
  NsTensor *t = ns_tensor_new_uninit (c, h, w);

  if (t != NULL)
    ns_floats_zero (t->data, ns_tensor_len (t));
  return t;
}

NsTensor *
ns_tensor_new_like (const NsTensor *t)
{
  g_return_val_if_fail (t != NULL, NULL);

  return ns_tensor_new (t->c, t->h, t->w);
}

NsTensor *
ns_tensor_copy (const NsTensor *t)
{
  NsTensor *copy;

  g_return_val_if_fail (t != NULL, NULL);

  copy = ns_tensor_new_uninit (t->c, t->h, t->w);
  ns_floats_copy (copy->data, t->data, ns_tensor_len (t));
  return copy;
}

void
ns_tensor_free (NsTensor *t)
{
  if (t == NULL)
    return;
  ns_floats_free (t->data);
  g_free (t);
}
