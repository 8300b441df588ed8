/* interrupt.c — Ctrl-C and SIGTERM: the work stops cleanly, files are completed or deleted. */
#include "interrupt.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <glib-unix.h>

#include "cli.h"
#include "imageio.h"

/* A signal handler can only reach static storage; these are the whole shared state.
 * The handler itself does nothing but write to a pipe (async-signal-safe); a watcher thread
 * turns that into the cancel function (ns_stylizer_cancel, …), which is not safe to call
 * from a handler. */
static int interrupt_fd = -1;
volatile sig_atomic_t interrupt_count = 0;
volatile sig_atomic_t interrupt_signal = 0;     /* the first one */
static volatile sig_atomic_t interrupt_may_quit = 0;   /* a second signal quits at once */

static const int interrupt_signals[] = { SIGINT, SIGTERM };

G_STATIC_ASSERT (G_N_ELEMENTS (interrupt_signals) == G_N_ELEMENTS (((Interrupt *) 0)->previous));

int
interrupt_status (int signo)
{
  return signo == SIGTERM ? EXIT_TERMINATED : EXIT_INTERRUPTED;
}

static void
on_interrupt (int signo)
{
  static const char message[] = "\n" PROGRAM ": interrupted twice; quitting without saving\n";
  int saved = errno;
  char byte = 'c';

  if (interrupt_signal == 0)
    interrupt_signal = signo;
  if (++interrupt_count >= 2 && interrupt_may_quit)
    {
      /* No half-written file may outlive the process. */
      cli_image_remove_temporary ();
      if (write (STDERR_FILENO, message, sizeof message - 1) < 0)
        { /* nothing more can be done */ }
      _exit (interrupt_status (signo));
    }
  if (write (interrupt_fd, &byte, 1) < 0)
    { /* the watcher already knows */ }
  errno = saved;
}

static gpointer
interrupt_watch (gpointer data)
{
  Interrupt *in = data;
  gboolean said = FALSE;
  char byte;

  while (read (in->fds[0], &byte, 1) == 1 && byte == 'c')
    {
      g_mutex_lock (&in->lock);
      if (in->cancel != NULL)
        in->cancel (in->target);
      g_mutex_unlock (&in->lock);
      if (!said)
        fprintf (stderr, "\n" PROGRAM ": %s\n", in->stopping);
      said = TRUE;
    }
  return NULL;
}

gboolean
interrupt_start (Interrupt *in, const char *stopping, gboolean may_quit, GError **error)
{
  struct sigaction action = { 0 };

  if (!g_unix_open_pipe (in->fds, FD_CLOEXEC, error))
    return FALSE;
  g_mutex_init (&in->lock);
  in->cancel = NULL;
  in->target = NULL;
  in->stopping = stopping;
  interrupt_fd = in->fds[1];
  interrupt_count = 0;
  interrupt_signal = 0;
  interrupt_may_quit = may_quit;
  in->thread = g_thread_new ("interrupt", interrupt_watch, in);
  action.sa_handler = on_interrupt;
  sigemptyset (&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (gsize i = 0; i < G_N_ELEMENTS (interrupt_signals); i++)
    sigaction (interrupt_signals[i], &action, &in->previous[i]);
  return TRUE;
}

void
interrupt_attach (Interrupt *in, InterruptCancelFunc cancel, gpointer target)
{
  g_mutex_lock (&in->lock);
  in->cancel = cancel;
  in->target = target;
  g_mutex_unlock (&in->lock);
}

void
interrupt_stop (Interrupt *in)
{
  char byte = 'q';

  if (in->thread == NULL)
    return;
  for (gsize i = 0; i < G_N_ELEMENTS (interrupt_signals); i++)
    sigaction (interrupt_signals[i], &in->previous[i], NULL);
  if (write (in->fds[1], &byte, 1) != 1)
    g_warn_if_reached ();
  g_thread_join (in->thread);
  in->thread = NULL;
  interrupt_fd = -1;
  close (in->fds[0]);
  close (in->fds[1]);
  g_mutex_clear (&in->lock);
}
