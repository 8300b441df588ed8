/* frames.h — `neural-style --frames`: the frames of an animation, stylized in order with
 * temporal consistency (NsSequence), each written as soon as it is done. */
#ifndef NS_CLI_FRAMES_H
#define NS_CLI_FRAMES_H

#include "cli.h"

G_BEGIN_DECLS

/* The whole --frames mode from the parsed arguments (run->options is new): checks the
 * options, the frames and the outputs before any work, then stylizes.  Returns an exit
 * status. */
int run_frames (const CliArgs *a, CliRun *run);

G_END_DECLS

#endif /* NS_CLI_FRAMES_H */
