/* The engine built for AVX2 CPUs without AVX-512 VNNI (setup.py compiles it with those flags; see avx2.h). */
#include "e5.c"
