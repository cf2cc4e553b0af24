#ifndef SENDWATCH_CLZ4_SHIM_H
#define SENDWATCH_CLZ4_SHIM_H
#include <lz4frame.h>
/* LZ4F_VERSION is a plain macro; named here so that Swift sees a typed constant. */
static const unsigned sendwatch_lz4f_version = LZ4F_VERSION;
#endif
