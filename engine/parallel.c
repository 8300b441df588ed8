/* parallel.c — the engine's own threads, and why OpenBLAS has none.
 *
 * OpenBLAS's threaded GEMM rounds differently from its single-threaded one on some of its
 * kernels (Haswell, Zen: 40,822 of 262,144 products of a 64×4096×27 sgemm differ in the last
 * bits between one and two threads), and a toggle of its thread count moves later results
 * too.  So OpenBLAS runs on one thread, and every parallel loop of the engine cuts its work
 * into items fixed by the shapes alone: threads take the items in any order, and the result
 * is the same bits at any thread count.
 *
 * Items are handed out by an atomic counter, and the calling thread works on them too:
 * it waits only for items another thread has started, never for a thread that has not yet
 * been scheduled (on busy cores that wait is a whole time slice). */

#include <cblas.h>

#include "ns-internal.h"

#define NS_PARALLEL_MAX_THREADS 64

typedef struct Region Region;

typedef struct
{
  Region *region;
  int     worker;
} Task;

struct Region
{
  NsParallelFunc fn;
  gpointer       data;
  int            n_items;
  gint           next;            /* the next item to hand out */
  gint           completed;       /* items finished */
  gint           ref;             /* the caller and each queued task */
  GMutex         lock;
  GCond          done;
  Task           tasks[NS_PARALLEL_MAX_THREADS];
};

static GPrivate threads_key;           /* the calling thread's count + 1; 0 = unset */
static GPrivate in_worker_key;         /* set in the pool's threads */

static void
region_unref (Region *r)
{
  if (! g_atomic_int_dec_and_test (&r->ref))
    return;
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->done);
  g_free (r);
}

static void
run_items (Region *r, int worker)
{
  int i;

  while ((i = g_atomic_int_add (&r->next, 1)) < r->n_items)
    {
      r->fn (i, worker, r->data);
      if (g_atomic_int_add (&r->completed, 1) + 1 == r->n_items)
        {
          g_mutex_lock (&r->lock);
          g_cond_signal (&r->done);
          g_mutex_unlock (&r->lock);
        }
    }
}

static void
helper_main (gpointer task_data, gpointer unused)
{
  Task *t = task_data;

  g_private_set (&in_worker_key, GINT_TO_POINTER (1));
  run_items (t->region, t->worker);
  region_unref (t->region);
}

static gpointer
init_once (gpointer unused)
{
  openblas_set_num_threads (1);
  return g_thread_pool_new (helper_main, NULL, -1, FALSE, NULL);
}

/* The process's helper threads (shared by every run, like GLib's own pools). */
static GThreadPool *
get_pool (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, init_once, NULL);
}

int
ns_parallel_threads (void)
{
  int n;

  if (g_private_get (&in_worker_key) != NULL)
    return 1;          /* nested loops run on the thread that reached them */
  n = GPOINTER_TO_INT (g_private_get (&threads_key)) - 1;
  if (n <= 0)
    n = (int) g_get_num_processors ();
  return CLAMP (n, 1, NS_PARALLEL_MAX_THREADS);
}

int
ns_parallel_set_threads (int threads)
{
  int previous = GPOINTER_TO_INT (g_private_get (&threads_key)) - 1;

  g_private_set (&threads_key, GINT_TO_POINTER (MAX (threads, 0) + 1));
  return MAX (previous, 0);
}

int
ns_parallel_workers (int n_items, double work)
{
  if (n_items <= 1 || work < NS_PARALLEL_MIN_WORK)
    return 1;
  return MIN (n_items, ns_parallel_threads ());
}

void
ns_parallel_for (int n_items, int n_workers, NsParallelFunc fn, gpointer data)
{
  GThreadPool *p = get_pool ();     /* also makes OpenBLAS single-threaded */
  Region *r;

  if (n_items <= 0)
    return;
  n_workers = CLAMP (n_workers, 1, MIN (n_items, NS_PARALLEL_MAX_THREADS));
  if (n_workers == 1)
    {
      for (int i = 0; i < n_items; i++)
        fn (i, 0, data);
      return;
    }

  r = g_new (Region, 1);
  r->fn = fn;
  r->data = data;
  r->n_items = n_items;
  r->next = 0;
  r->completed = 0;
  r->ref = n_workers;
  g_mutex_init (&r->lock);
  g_cond_init (&r->done);
  for (int w = 1; w < n_workers; w++)
    {
      r->tasks[w].region = r;
      r->tasks[w].worker = w;
      g_thread_pool_push (p, &r->tasks[w], NULL);
    }

  run_items (r, 0);
  g_mutex_lock (&r->lock);
  while (g_atomic_int_get (&r->completed) < n_items)
    g_cond_wait (&r->done, &r->lock);
  g_mutex_unlock (&r->lock);
  region_unref (r);
}

/* ---- elementwise loops ------------------------------------------------------------------ */

typedef struct
{
  gsize          n, chunk;
  NsRangeFunc    fn;
  NsRangeSumFunc sum_fn;
  double        *sums;          /* per chunk, for ns_parallel_sum */
  gpointer       data;
} Range;

static void
range_item (int item, int worker, gpointer data)
{
  Range *r = data;
  gsize from = (gsize) item * r->chunk, to = MIN (r->n, from + r->chunk);

  if (r->sums != NULL)
    r->sums[item] = r->sum_fn (from, to, r->data);
  else
    r->fn (from, to, r->data);
}

/* The chunks of [0, n), and the workers for them: one below NS_PARALLEL_MIN_ELEMENTS, where
 * waking the helpers would cost more than they save. */
static int
range_workers (gsize n, gsize chunk, gsize unit, int *n_items)
{
  gsize items = (n + chunk - 1) / chunk;

  g_assert (chunk > 0 && items <= G_MAXINT);
  *n_items = (int) items;
  if (items <= 1 || n * unit < NS_PARALLEL_MIN_ELEMENTS)
    return 1;
  return (int) MIN (items, (gsize) ns_parallel_threads ());
}

void
ns_parallel_range (gsize n, gsize chunk, gsize unit, NsRangeFunc fn, gpointer data)
{
  Range r = { n, chunk, fn, NULL, NULL, data };
  int n_items, workers = range_workers (n, chunk, unit, &n_items);

  if (n_items == 1)
    fn (0, n, data);
  else
    ns_parallel_for (n_items, workers, range_item, &r);
}

double
ns_parallel_sum (gsize n, gsize chunk, gsize unit, NsRangeSumFunc fn, gpointer data)
{
  double local[16], total = 0.0;
  Range r = { n, chunk, NULL, fn, local, data };
  int n_items, workers = range_workers (n, chunk, unit, &n_items);

  if (n_items > (int) G_N_ELEMENTS (local))
    r.sums = g_new (double, n_items);
  ns_parallel_for (n_items, workers, range_item, &r);
  /* In chunk order, whichever thread finished first. */
  for (int i = 0; i < n_items; i++)
    total += r.sums[i];
  if (r.sums != local)
    g_free (r.sums);
  return total;
}
