#ifndef SENDWATCH_CZLIB_SHIM_H
#define SENDWATCH_CZLIB_SHIM_H
#include <zlib.h>
#endif
