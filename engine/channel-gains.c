/* channel-gains.c — features scaled per channel by 1 / RMS of their target's channel
 * (NsNetwork.normalize_channels), so that faint fine-scale channels count as much as bright
 * colour channels; the gains come from the target and stay fixed during a run. */
#include <math.h>

#include "objective-internal.h"

double
ns_mean_square (const float *v, gsize n)
{
  double s = 0.0;

  for (gsize i = 0; i < n; i++)
    s += (double) v[i] * v[i];
  return n ? s / n : 0.0;
}

/* Channels far fainter than the average are treated as having 1% of the average energy,
 * so that a channel the target barely uses does not get an enormous gain. */
float *
ns_channel_gains (const double *ms, int c)
{
  float *scale = g_new (float, c);
  double mean = 0.0;

  for (int i = 0; i < c; i++)
    mean += ms[i];
  mean /= MAX (c, 1);
  for (int i = 0; i < c; i++)
    scale[i] = (float) (1.0 / sqrt (ms[i] + 1e-2 * mean + 1e-30));
  return scale;
}

/* The style target of the scaled features: A'_ij = s_i s_j A_ij. */
float *
ns_gram_gains (float *gram, int c)
{
  g_autofree double *diag = g_new (double, c);
  float *scale;

  for (int i = 0; i < c; i++)
    diag[i] = gram[(gsize) i * c + i];
  scale = ns_channel_gains (diag, c);
  ns_gram_scale (gram, c, scale);
  return scale;
}

void
ns_gram_scale (float *m, int c, const float *scale)
{
  for (int i = 0; i < c; i++)
    for (int j = 0; j < c; j++)
      m[(gsize) i * c + j] *= scale[i] * scale[j];
}

/* dst (+)= scale ⊙ src per channel, over the threads in chunks (a chunk may span channels). */
typedef struct
{
  float       *dst;
  const float *src, *scale;
  gsize        hw;
  gboolean     add;
} Scaled;

static void
scaled_range (gsize from, gsize to, gpointer data)
{
  const Scaled *s = data;

  while (from < to)
    {
      gsize c = from / s->hw, end = MIN (to, (c + 1) * s->hw);
      float k = s->scale[c];

      if (s->add)
        for (gsize i = from; i < end; i++)
          s->dst[i] += s->src[i] * k;
      else
        for (gsize i = from; i < end; i++)
          s->dst[i] = s->src[i] * k;
      from = end;
    }
}

static void
scaled_apply (float *dst, const NsTensor *src, const float *scale, gboolean add)
{
  Scaled s = { dst, src->data, scale, (gsize) src->h * src->w, add };

  if (s.hw > 0)
    ns_parallel_range (ns_tensor_len (src), NS_CHUNK, 1, scaled_range, &s);
}

void
ns_channel_scale (NsTensor *t, const float *scale)
{
  scaled_apply (t->data, t, scale, FALSE);
}

float *
ns_content_gains (NsTensor *target)
{
  gsize hw = (gsize) target->h * target->w;
  g_autofree double *ms = g_new (double, target->c);
  float *scale;

  for (int i = 0; i < target->c; i++)
    ms[i] = ns_mean_square (target->data + i * hw, hw);
  scale = ns_channel_gains (ms, target->c);
  ns_channel_scale (target, scale);
  return scale;
}

double
ns_scaled_loss (const NsTensor *f, const float *scale, const NsTensor *target, const float *gram,
                double weight, NsTensor *grad)
{
  g_autoptr (NsTensor) fs = ns_tensor_new_uninit (f->c, f->h, f->w);
  g_autoptr (NsTensor) gs = grad ? ns_tensor_new_like (f) : NULL;
  double loss;

  scaled_apply (fs->data, f, scale, FALSE);
  loss = target ? ns_content_loss (fs, target, weight, gs) : ns_style_loss (fs, gram, weight, gs);
  /* The chain rule through the scaling: grad += scale ⊙ gs. */
  if (grad)
    scaled_apply (grad->data, gs, scale, TRUE);
  return loss;
}
