/* progress.h — progress reporting on stderr for the command-line tool.
 *
 * On a terminal: one bar redrawn in place (iteration/iterations at the current size, relative
 * loss, elapsed, ETA; for a sequence also the frame, the bar and the ETA being the whole
 * sequence's).
 * Otherwise (a log file, a pipe): a plain line about every 10 % (of each frame's run). */
#ifndef NS_CLI_PROGRESS_H
#define NS_CLI_PROGRESS_H

#include <stdio.h>
#include <neural-style.h>

G_BEGIN_DECLS

typedef struct _CliProgress CliProgress;

/* `interactive`: redraw a bar (stream is a terminal).  `quiet`: report nothing. */
CliProgress *cli_progress_new      (FILE *stream, gboolean interactive, gboolean quiet);
void         cli_progress_free     (CliProgress *progress);

/* One optimisation step. */
void         cli_progress_iteration (CliProgress *progress, const NsProgress *state);
/* One optimisation step of a frame of a sequence: the frame, the step at its current size,
 * and the time left for the whole sequence. */
void         cli_progress_frame    (CliProgress *progress, const NsSequenceProgress *state);
/* Bytes of a download; total 0 = unknown. */
void         cli_progress_bytes    (CliProgress *progress, guint64 done, guint64 total);
/* Ends the bar's line, so that the next message starts on a fresh one.  Idempotent. */
void         cli_progress_break    (CliProgress *progress);

/* "1:05", "12:00:03"; "?" for negative values. */
char        *cli_format_duration   (double seconds);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliProgress, cli_progress_free)

G_END_DECLS

#endif /* NS_CLI_PROGRESS_H */
