/* positive-weights.h — test networks whose convolutions have small positive weights and
 * biases, so that few ReLUs sit at their kink (finite differences are then reliable).
 * Needs ns-internal.h and testutil.h first. */
#ifndef NS_TEST_POSITIVE_WEIGHTS_H
#define NS_TEST_POSITIVE_WEIGHTS_H

/* Layer i's weights uniform in [0, 2/(9·cin)), its biases in [0.2, 0.4): seeds 100 + i and
 * 200 + i.  The caller adjusts them further and then calls ns_conv_prepare. */
static inline void
ns_test_positive_conv (NsLayer *l, int i)
{
  ns_test_fill (l->conv.weight, (gsize) l->conv.cout * l->conv.cin * 9, 100 + i, 0.0f,
                2.0f / (l->conv.cin * 9));
  ns_test_fill (l->conv.bias, l->conv.cout, 200 + i, 0.2f, 0.4f);
}

#endif
