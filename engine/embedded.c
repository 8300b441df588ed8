/* embedded.c — the built-in feature networks: weights generated deterministically in code,
 * so that the engine works with no download.
 *
 * Several candidates are kept, by name, so that the quality harness (tools/eval.c) can
 * compare them and the comparison in docs/embedded-network.md can be repeated:
 *   random-vgg19      VGG-19's topology, He-scaled Gaussian weights, per-layer loss
 *                     normalisation (He, Wang & Hopcroft 2016).  The cost reference.
 *   random-vgg19-chan the same with average pooling and per-channel normalisation.
 *   random-pyramid    a multi-scale single layer of random filters, applied on every octave
 *                     of an image pyramid (after Ustyuzhaninov et al. 2017).
 *   wavelet           oriented steerable filters at 2 phases and both signs (phase
 *                     rectifiers) on every octave, with the previous octave's rectified
 *                     responses carried along so the Gram matrix sees cross-scale
 *                     correlations (after Brochard, Zhang & Mallat 2022).
 * Random streams are splitmix64 from fixed seeds: identical on every machine.
 */
#include <math.h>
#include <string.h>
#include "ns-internal.h"

/* The built-in network: the candidate that measured best (docs/embedded-network.md). */
#define EMBEDDED_DEFAULT "random-pyramid,shifts=2"

/* What β = 1e6 becomes on the pyramids: tuned with tools/run eval (docs/embedded-network.md). */
#define PYRAMID_STYLE_GAIN 3e-5

/* Colour thresholds (levels=) in the network's input units (σ = 0.25): 0.125 of [0, 1]. */
#define LEVEL_STEP 0.5

#define EMBEDDED_SEED G_GUINT64_CONSTANT (0x4e53454d42454444)   /* "NSEMBEDD" */

static guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Uniform in (0, 1), never 0 so that log() below is finite. */
static double
uniform01 (guint64 *state)
{
  return ((splitmix64 (state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double
gaussian (guint64 *state)
{
  double u1 = uniform01 (state), u2 = uniform01 (state);

  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

/* ---- building a chain of layers ------------------------------------------------------------ */

static NsNetwork *
network_new (const char *content_layer, const char *style_layers)
{
  NsNetwork *net = g_new0 (NsNetwork, 1);

  net->ref_count = 1;
  net->kind = NS_NETWORK_EMBEDDED;
  net->name = g_strdup ("embedded");
  net->content_layer = g_strdup (content_layer);
  net->style_layers = g_strdup (style_layers);
  return net;
}

static NsLayer *
add_layer (NsNetwork *net, NsLayerKind kind, const char *name)
{
  NsLayer *l;

  net->layers = g_renew (NsLayer, net->layers, net->n_layers + 1);
  l = &net->layers[net->n_layers++];
  memset (l, 0, sizeof *l);
  l->kind = kind;
  g_strlcpy (l->name, name, sizeof l->name);
  return l;
}

/* A convolution; with keep_count > 0, an NS_LAYER_CONV_KEEP that also passes input
 * channels keep_first … through.  The returned pointer is valid until the next add_layer. */
static NsConv *
add_conv (NsNetwork *net, const char *name, int conv_first, int cin, int cout, int keep_first,
          int keep_count)
{
  NsLayer *l = add_layer (net, keep_count > 0 ? NS_LAYER_CONV_KEEP : NS_LAYER_CONV, name);

  g_assert (keep_count > 0 || conv_first == 0);
  l->conv_first = conv_first;
  l->keep_first = keep_first;
  l->keep_count = keep_count;
  l->conv.cin = cin;
  l->conv.cout = cout;
  l->conv.weight = ns_floats_new ((gsize) cout * cin * 9);
  l->conv.bias = ns_floats_new (cout);
  return &l->conv;
}

static float *
tap (NsConv *conv, int out, int in)
{
  return conv->weight + ((gsize) out * conv->cin + in) * 9;
}

/* Generated networks normalise every loss term by its target (He et al. 2016), which puts
 * the style term on another scale than VGG-19's: style_gain maps the user's β (VGG-19's
 * scale, default 1e6) to this network's. */
static void
normalise (NsNetwork *net, gboolean per_channel, double style_gain)
{
  net->normalize_layers = TRUE;
  net->normalize_channels = per_channel;
  net->content_gain = 1.0;
  net->style_gain = style_gain;
  net->tv_gain = 1.0;
}

/* ---- random VGG-19 -------------------------------------------------------------------------- */

static void
fill_he (NsConv *conv, guint64 *state)
{
  gsize n = (gsize) conv->cout * conv->cin * 9;
  double scale = sqrt (2.0 / (conv->cin * 9.0));

  for (gsize i = 0; i < n; i++)
    conv->weight[i] = (float) (scale * gaussian (state));
  for (int o = 0; o < conv->cout; o++)
    conv->bias[o] = 0.0f;
  ns_conv_prepare (conv);
}

static NsNetwork *
random_vgg19 (gboolean avg_pool, gboolean per_channel)
{
  NsNetwork *net = ns_network_new_vgg19_topology (NS_NETWORK_EMBEDDED, "embedded");
  guint64 state = EMBEDDED_SEED;

  for (int i = 0; i < net->n_layers; i++)
    if (net->layers[i].kind == NS_LAYER_CONV)
      fill_he (&net->layers[i].conv, &state);
    else if (avg_pool && net->layers[i].kind == NS_LAYER_MAXPOOL)
      net->layers[i].kind = NS_LAYER_AVGPOOL;
  normalise (net, per_channel, 1e-5);
  return net;
}

/* ---- image pyramids with fixed or random filters -------------------------------------------- */

/* Opponent colour axes (orthonormal): brightness, red–green, yellow–blue. */
static const double opponent[3][3] = {
  { 0.57735026918962576, 0.57735026918962576, 0.57735026918962576 },
  { 0.70710678118654752, -0.70710678118654752, 0.0 },
  { 0.40824829046386302, 0.40824829046386302, -0.81649658092772603 },
};

typedef enum { BANDS_STEERABLE, BANDS_RANDOM } BandKind;

typedef struct
{
  int       scales;         /* octaves, each a conv + ReLU, pooled 2× in between */
  int       orients;        /* orientations (steerable) or filter pairs / 2 (random) */
  int       colours;        /* opponent channels that get band filters: 1 or 3 */
  BandKind  bands;
  int       shifts;         /* 0, 2 or 4 one-pixel shifts of the brightness responses */
  int       levels;         /* thresholds per sign of each opponent colour, first octave */
} PyramidSpec;

/* 3×3 first (odd) and second (even) directional derivatives of a binomial-smoothed
 * image, steered to angle theta and scaled to unit L2 norm: an approximate quadrature
 * pair, tuned to the octave the pyramid level holds. */
static void
steerable (double theta, int phase, float k[9])
{
  static const double s[3] = { 0.25, 0.5, 0.25 }, d[3] = { -0.5, 0.0, 0.5 };
  static const double l[3] = { 1.0, -2.0, 1.0 };
  double c = cos (theta), sn = sin (theta), norm = 0.0;

  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 3; x++)
      {
        double v;

        if (phase == 0)
          v = c * s[y] * d[x] + sn * d[y] * s[x];
        else
          v = c * c * s[y] * l[x] + 2.0 * c * sn * d[y] * d[x] + sn * sn * l[y] * s[x];
        k[3 * y + x] = (float) v;
        norm += v * v;
      }
  for (int i = 0; i < 9; i++)
    k[i] /= (float) sqrt (norm);
}

/* A zero-mean Gaussian 3×3 filter of unit L2 norm (blind to flat colour, like a wavelet). */
static void
random_band (guint64 *state, float k[9])
{
  double mean = 0.0, norm = 0.0;

  for (int i = 0; i < 9; i++)
    mean += k[i] = (float) gaussian (state);
  mean /= 9.0;
  for (int i = 0; i < 9; i++)
    {
      k[i] -= (float) mean;
      norm += (double) k[i] * k[i];
    }
  for (int i = 0; i < 9; i++)
    k[i] /= (float) sqrt (norm);
}

/* Adds `gain · kernel` applied to opponent channel `colour` of this level's image to output
 * `out`: at the first level the image is the RGB input, later it is carried as the pair
 * ReLU(+c), ReLU(−c) in input channels 2c, 2c + 1. */
static void
add_on_colour (NsConv *conv, int level, int out, int colour, const float kernel[9], double gain)
{
  for (int t = 0; t < 9; t++)
    {
      if (level == 0)
        for (int m = 0; m < 3; m++)
          tap (conv, out, m)[t] += (float) (gain * opponent[colour][m] * kernel[t]);
      else
        {
          tap (conv, out, 2 * colour)[t] += (float) (gain * kernel[t]);
          tap (conv, out, 2 * colour + 1)[t] -= (float) (gain * kernel[t]);
        }
    }
}

static NsNetwork *
pyramid (const PyramidSpec *spec, const char *content_layer)
{
  static const float binomial[9] = { 1 / 16.f, 2 / 16.f, 1 / 16.f, 2 / 16.f, 4 / 16.f,
                                     2 / 16.f, 1 / 16.f, 2 / 16.f, 1 / 16.f };
  static const int shift_taps[4] = { 5, 7, 8, 6 };   /* (0,+1), (+1,0), (+1,+1), (+1,−1) */
  int n_low = 6, n_band = spec->colours * spec->orients * 4;
  int n_lum = spec->orients * 4, n_shift = spec->shifts * n_lum;
  int n_levels = 3 * 2 * spec->levels;
  guint64 state = EMBEDDED_SEED;
  GString *style = g_string_new (NULL);
  NsNetwork *net;

  for (int j = 1; j <= spec->scales; j++)
    g_string_append_printf (style, "%srelu%d_%d", j > 1 ? "," : "", j, n_shift ? 2 : 1);
  net = network_new (content_layer, style->str);
  g_string_free (style, TRUE);

  for (int j = 0; j < spec->scales; j++)
    {
      int cin = j == 0 ? 3 : n_low;
      int cout = n_low + n_band + (j == 0 ? n_levels : 0);
      g_autofree char *cname = g_strdup_printf ("conv%d_1", j + 1);
      g_autofree char *rname = g_strdup_printf ("relu%d_1", j + 1);
      g_autofree char *pname = g_strdup_printf ("pool%d", j + 1);
      /* From the second octave on, the previous octave's rectified responses (now pooled
       * to this resolution) are carried along, so that the Gram matrix correlates them with
       * this octave's. */
      NsConv *conv = add_conv (net, cname, j > 0 ? n_shift : 0, cin, cout, n_shift + n_low,
                               j > 0 ? n_band : 0);
      int o = 0;

      /* This octave's low-pass colour, blurred ahead of the 2× pooling, as ± pairs. */
      for (int c = 0; c < 3; c++)
        {
          add_on_colour (conv, j, o++, c, binomial, 1.0);
          add_on_colour (conv, j, o++, c, binomial, -1.0);
        }
      /* Band responses at both signs: ReLU(±even), ReLU(±odd) are the four phase
       * rectifiers of a quadrature pair. */
      for (int c = 0; c < spec->colours; c++)
        for (int r = 0; r < spec->orients; r++)
          for (int phase = 0; phase < 2; phase++)
            {
              float k[9];

              if (spec->bands == BANDS_STEERABLE)
                steerable (G_PI * r / spec->orients, phase, k);
              else
                random_band (&state, k);
              add_on_colour (conv, j, o++, c, k, 1.0);
              add_on_colour (conv, j, o++, c, k, -1.0);
            }
      /* Colour above thresholds, ReLU(±c − t): the Gram matrix of these holds a piecewise-
       * linear picture of each colour's distribution (the ± pair above gives only its
       * second moments), and of which colours go with which strokes.  Last, so that the
       * next octave does not carry them. */
      for (int c = 0; j == 0 && c < 3; c++)
        for (int t = 1; t <= spec->levels; t++)
          for (int sign = 1; sign >= -1; sign -= 2)
            {
              conv->bias[o] = (float) (-LEVEL_STEP * t);
              add_on_colour (conv, j, o++, c, binomial, sign);
            }
      g_assert (o == cout);
      ns_conv_prepare (conv);
      add_layer (net, NS_LAYER_RELU, rname);
      /* Shifted copies of the brightness responses, put ahead of everything else, so that
       * the Gram matrix also holds correlations between neighbouring positions (stroke
       * length and spacing; Brochard et al.'s spatial shifts). */
      if (n_shift > 0)
        {
          g_autofree char *c2 = g_strdup_printf ("conv%d_2", j + 1);
          g_autofree char *r2 = g_strdup_printf ("relu%d_2", j + 1);
          int kept = n_low + n_band + (j > 0 ? n_band : n_levels);

          conv = add_conv (net, c2, n_low, n_lum, n_shift, 0, kept);
          for (int d = 0; d < spec->shifts; d++)
            for (int m = 0; m < n_lum; m++)
              tap (conv, d * n_lum + m, m)[shift_taps[d]] = 1.0f;
          ns_conv_prepare (conv);
          add_layer (net, NS_LAYER_RELU, r2);
        }
      if (j + 1 < spec->scales)
        add_layer (net, NS_LAYER_AVGPOOL, pname);
    }
  /* Equal greys in, so the opponent axes stay orthogonal; roughly unit variance. */
  for (int c = 0; c < 3; c++)
    {
      net->mean[c] = 0.45f;
      net->std[c] = 0.25f;
    }
  normalise (net, TRUE, PYRAMID_STYLE_GAIN);
  return net;
}

/* ---- the candidates --------------------------------------------------------------------- */

/* Candidate parameters, given after the name as ",key=value" (e.g. "wavelet,orients=8"),
 * so that the harness can try variations without rebuilding. */
typedef struct
{
  int scales, orients, colours, content, shifts, levels;
} Params;

static NsNetwork *build_random_vgg19 (const Params *p) { return random_vgg19 (FALSE, FALSE); }
static NsNetwork *build_random_vgg19_chan (const Params *p) { return random_vgg19 (TRUE, TRUE); }

static NsNetwork *
build_pyramid (const Params *p, BandKind bands)
{
  PyramidSpec spec = { p->scales, p->orients, p->colours, bands, p->shifts, p->levels };
  g_autofree char *content = g_strdup_printf ("relu%d_1", CLAMP (p->content, 1, p->scales));

  return pyramid (&spec, content);
}

static NsNetwork *build_random_pyramid (const Params *p) { return build_pyramid (p, BANDS_RANDOM); }
static NsNetwork *build_wavelet (const Params *p) { return build_pyramid (p, BANDS_STEERABLE); }

typedef struct
{
  const char *name;
  NsNetwork *(*build) (const Params *p);
} Variant;

static gboolean
parse_params (char **kv, Params *p, GError **error)
{
  for (; *kv; kv++)
    {
      char *eq = strchr (*kv, '=');
      gint64 v;
      int *field = NULL;

      if (eq)
        {
          *eq = '\0';
          field = strcmp (*kv, "scales") == 0 ? &p->scales
                : strcmp (*kv, "orients") == 0 ? &p->orients
                : strcmp (*kv, "colours") == 0 ? &p->colours
                : strcmp (*kv, "content") == 0 ? &p->content
                : strcmp (*kv, "shifts") == 0 ? &p->shifts
                : strcmp (*kv, "levels") == 0 ? &p->levels : NULL;
        }
      if (field == NULL || !g_ascii_string_to_signed (eq + 1, 10, 0, 16, &v, NULL) ||
          (field == &p->colours && v != 1 && v != 3) || (field == &p->shifts && v > 4) ||
          (field != &p->shifts && field != &p->levels && v < 1))
        {
          g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                       "Bad built-in network parameter \"%s\"; use scales=, orients=, "
                       "colours=1|3, content=, shifts= or levels= with a small number", *kv);
          return FALSE;
        }
      *field = (int) v;
    }
  return TRUE;
}

static const Variant variants[] = {
  { "random-vgg19", build_random_vgg19 },
  { "random-vgg19-chan", build_random_vgg19_chan },
  { "random-pyramid", build_random_pyramid },
  { "wavelet", build_wavelet },
};

const char * const *
ns_network_embedded_variants (void)
{
  static const char * const names[] = {
    "random-vgg19", "random-vgg19-chan", "random-pyramid", "wavelet", NULL,
  };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == G_N_ELEMENTS (variants) + 1);
  return names;
}

NsNetwork *
ns_network_new_embedded_variant (const char *name, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (name ? name : "", ",", -1);
  Params p = { 6, 4, 3, 3, 0, 0 };

  if (!parse_params (parts + (parts[0] ? 1 : 0), &p, error))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (variants); i++)
    if (parts[0] && strcmp (parts[0], variants[i].name) == 0)
      {
        NsNetwork *net = variants[i].build (&p);

        net->description = g_strdup_printf ("the built-in generated network, candidate \"%s\"",
                                            name);
        return ns_network_with_default_padding (net);
      }
  {
    g_autofree char *known = g_strjoinv (", ", (char **) ns_network_embedded_variants ());

    g_set_error (error, NS_ERROR, NS_ERROR_INVALID_ARGUMENT,
                 "There is no built-in network candidate \"%s\"; the candidates are %s",
                 name ? name : "", known);
  }
  return NULL;
}

NsNetwork *
ns_network_new_embedded (void)
{
  NsNetwork *net = ns_network_new_embedded_variant (EMBEDDED_DEFAULT, NULL);

  g_free (net->description);
  net->description = g_strdup ("the built-in generated network (no download needed); "
                               "for VGG-19 quality run: neural-style --download-weights");
  return net;
}
