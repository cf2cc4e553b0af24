#ifndef SENDWATCH_CZSTD_SHIM_H
#define SENDWATCH_CZSTD_SHIM_H
#include <zstd.h>
#include <zstd_errors.h>
#endif
