/* simd.c — which of the engine's own vector paths runs (Winograd's transforms, the lean
 * pass's ReLU).  The paths give the same bits (no reassociation, no contraction into FMA:
 * see engine/meson.build), so choosing one is a matter of speed; $NEURAL_STYLE_SIMD lowers
 * the choice so that every machine can test the paths it does not run by default. */

#include <string.h>

#include "ns-internal.h"

static gint level = -1;

static NsSimd
cpu_level (void)
{
#if defined(__GNUC__) && defined(__x86_64__)
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f"))
    return NS_SIMD_AVX512;
  if (__builtin_cpu_supports ("avx2"))
    return NS_SIMD_AVX2;
#endif
  return NS_SIMD_PORTABLE;
}

static NsSimd
env_level (NsSimd cpu)
{
  const char *want = g_getenv ("NEURAL_STYLE_SIMD");

  if (want == NULL || *want == '\0')
    return cpu;
  if (strcmp (want, "portable") == 0)
    return NS_SIMD_PORTABLE;
  if (strcmp (want, "avx2") == 0)
    return MIN (cpu, NS_SIMD_AVX2);
  return cpu;
}

NsSimd
ns_simd_level (void)
{
  int l = g_atomic_int_get (&level);

  if (l < 0)
    {
      l = (int) env_level (cpu_level ());
      g_atomic_int_set (&level, l);
    }
  return (NsSimd) l;
}

NsSimd
ns_simd_override (NsSimd want)
{
  NsSimd previous = ns_simd_level ();

  g_atomic_int_set (&level, (int) MIN (want, cpu_level ()));
  return previous;
}
