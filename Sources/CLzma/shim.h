#ifndef SENDWATCH_CLZMA_SHIM_H
#define SENDWATCH_CLZMA_SHIM_H
#include <lzma.h>
/* LZMA_CONCATENATED is a macro built with UINT32_C, which Swift does not import. */
static const uint32_t sendwatch_lzma_concatenated = LZMA_CONCATENATED;
#endif
