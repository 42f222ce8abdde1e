/* layout.h - weights re-laid for the fast kernels (vnni.h, avx2.h; added by soundtrack-rag).
 *
 * Lanes = VLANES output rows (16 for 64-byte vectors, 8 for 32-byte ones): for row group g, block b and
 * 4-byte step k, one vector holds bytes [4k, 4k+4) of block b of each of the group's rows, so one
 * activation's 4 bytes, broadcast, multiply into all of them and the accumulator's lanes are outputs.
 * Included by a kernel header after it defines VLANES; nout must be a multiple of VLANES (e5_parse checks). */
typedef struct { uint8_t *w; float *d; } vmat;

static int vmat_make(vmat *x, const block_q4_0 *W, int nout, int nin) {
    int nb = nin / QK, ng = nout / VLANES;
    x->w = (uint8_t *)aligned_alloc(64, (size_t)nout * nin);
    x->d = (float *)aligned_alloc(64, sizeof(float) * (size_t)nout * nb);
    if (!x->w || !x->d) return -1;
    uint8_t row[QK];
    for (int g = 0; g < ng; g++)
        for (int b = 0; b < nb; b++)
            for (int i = 0; i < VLANES; i++) {
                const block_q4_0 *wb = W + (size_t)(g * VLANES + i) * nb + b;
                for (int j = 0; j < 16; j++) { row[j] = wb->qs[j] & 0x0F; row[j + 16] = wb->qs[j] >> 4; }
                for (int k = 0; k < 8; k++)
                    memcpy(x->w + ((((size_t)g * nb + b) * 8 + k) * VLANES + i) * 4, row + 4 * k, 4);
                x->d[((size_t)g * nb + b) * VLANES + i] = fp16_to_fp32(wb->d);
            }
    return 0;
}

static void vmat_free(vmat *x) { free(x->w); free(x->d); x->w = NULL; x->d = NULL; }
