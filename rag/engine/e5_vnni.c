/* The engine built for AVX-512 VNNI CPUs (setup.py compiles it with those flags; see vnni.h). */
#include "e5.c"
