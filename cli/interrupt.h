/* interrupt.h — Ctrl-C and SIGTERM for the command-line tool: a signal cancels the work in
 * progress (a stylizer, a sequence, a download), so that files being written are completed
 * or deleted; with `may_quit`, a second signal quits at once. */
#ifndef NS_CLI_INTERRUPT_H
#define NS_CLI_INTERRUPT_H

#include <signal.h>
#include <glib.h>

G_BEGIN_DECLS

/* Signals received since interrupt_start(), and the first one (SIGINT or SIGTERM). */
extern volatile sig_atomic_t interrupt_count;
extern volatile sig_atomic_t interrupt_signal;

/* Called from the watcher thread, never from the handler itself. */
typedef void (*InterruptCancelFunc) (gpointer target);

/* Initialise as { { -1, -1 } }: interrupt_stop() is then a no-op before a start. */
typedef struct
{
  int                  fds[2];
  GMutex               lock;
  InterruptCancelFunc  cancel;    /* called on a signal; NULL outside the work */
  gpointer             target;
  const char          *stopping;  /* said on the first signal */
  GThread             *thread;
  struct sigaction     previous[2];
} Interrupt;

/* The exit status for a run stopped by `signo`: 130 for SIGINT, 143 for SIGTERM. */
int      interrupt_status (int signo);
/* From here to interrupt_stop(), SIGINT and SIGTERM call the attached cancel function and
 * say `stopping`; with `may_quit`, a second one deletes the temporary file being written
 * and quits at once. */
gboolean interrupt_start  (Interrupt *in, const char *stopping, gboolean may_quit,
                           GError **error);
/* What to cancel on a signal (cancel NULL: nothing any more).  The engine forgets a cancel
 * that comes before its run starts, so callers check interrupt_count too. */
void     interrupt_attach (Interrupt *in, InterruptCancelFunc cancel, gpointer target);
void     interrupt_stop   (Interrupt *in);

G_END_DECLS

#endif /* NS_CLI_INTERRUPT_H */
